// ECharts for the dashboard, modular: only the bar and line charts, the grid, tooltip and legend, and
// the canvas renderer are registered (the whole library would be ~380 KB gzip; these ~170 KB).
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import VChart from 'vue-echarts'

use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer])

export default VChart
