// The dashboard's two charts as pure functions of the API's answers (tested without a canvas): the
// figure of one indicator in each region one level down (bars, with the target as a line when the
// target applies to each of them), and one indicator over the periods (line). A rate is drawn in
// percent. Only the modules registered in ./echarts.ts may appear here.
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts'
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components'
import type { ComposeOption } from 'echarts/core'

import type { components } from '@/api/schema'
import { divisionName } from '@/regions/divisions'

import { formatValue, periodLabel, type RegionFigures } from './format'

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption
>
export type Series = components['schemas']['Series']

const PRIMARY = '#1a5fb4'
const TARGET = '#b3261e'

/** The number drawn for a value: a rate in percent (one decimal), others as they are. */
export function plotted(unit: string, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null
  return unit === 'rate' ? Math.round(value * 1000) / 10 : Math.round(value * 100) / 100
}

/** The value axis: a rate's labels in percent (an `axisLabel: undefined` would hide them all). */
function valueAxis(unit: string): { type: 'value'; axisLabel?: { formatter: string } } {
  return unit === 'rate' ? { type: 'value', axisLabel: { formatter: '{value}%' } } : { type: 'value' }
}

/** The region's display name (平潭综合实验区 as officials call it). */
export function regionLabel(row: Pick<RegionFigures, 'region_code' | 'region_name'>): string {
  const name = divisionName(row.region_code)
  return name === row.region_code ? row.region_name : name
}

/** The target a bar chart draws: the value of a target that applies to every region shown (a
 * county-by-county target, as the breakdown's figures carry it), when they all share one. */
export function commonTarget(rows: readonly RegionFigures[], indicator: string): number | null {
  let value: number | null = null
  for (const row of rows) {
    const target = row.figures.find((f) => f.indicator === indicator)?.targets?.[0]
    if (target === undefined) return null
    if (value !== null && target.value !== value) return null
    value = target.value
  }
  return value
}

export function breakdownOption(rows: readonly RegionFigures[], indicator: string): ChartOption {
  const figures = rows.map((row) => row.figures.find((f) => f.indicator === indicator))
  const unit = figures.find((f) => f !== undefined)?.unit ?? 'number'
  const name = figures.find((f) => f !== undefined)?.name ?? indicator
  const target = commonTarget(rows, indicator)
  const series: (BarSeriesOption | LineSeriesOption)[] = [
    {
      type: 'bar',
      name,
      data: figures.map((f) => plotted(unit, f?.value)),
      itemStyle: { color: PRIMARY },
      barMaxWidth: 36,
    },
  ]
  if (target !== null) {
    series.push({
      type: 'line',
      name: '目标值',
      data: rows.map(() => plotted(unit, target)),
      symbol: 'none',
      lineStyle: { color: TARGET, type: 'dashed' },
      itemStyle: { color: TARGET },
    })
  }
  return {
    grid: { left: 56, right: 24, top: 40, bottom: 48 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (value) => (typeof value === 'number' ? formatValue(unit, unit === 'rate' ? value / 100 : value) : '—'),
    },
    xAxis: { type: 'category', data: rows.map(regionLabel), axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 } },
    yAxis: valueAxis(unit),
    series,
  }
}

export function trendOption(series: Series, target: number | null = null): ChartOption {
  const unit = series.unit
  const lines: LineSeriesOption[] = [
    {
      type: 'line',
      name: series.name,
      data: series.points.map((p) => plotted(unit, p.value)),
      itemStyle: { color: PRIMARY },
      connectNulls: false,
    },
  ]
  if (target !== null) {
    lines.push({
      type: 'line',
      name: '目标值',
      data: series.points.map(() => plotted(unit, target)),
      symbol: 'none',
      lineStyle: { color: TARGET, type: 'dashed' },
      itemStyle: { color: TARGET },
    })
  }
  return {
    grid: { left: 56, right: 24, top: 40, bottom: 32 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (value) => (typeof value === 'number' ? formatValue(unit, unit === 'rate' ? value / 100 : value) : '—'),
    },
    xAxis: { type: 'category', data: series.points.map((p) => periodLabel(p.period)) },
    yAxis: valueAxis(unit),
    series: lines,
  }
}
