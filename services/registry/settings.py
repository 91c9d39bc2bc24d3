from __future__ import annotations

from datetime import date

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"

    # config_defaults.csv: homecare.nurse_min_years (confirmed)
    homecare_nurse_min_years: int = 5
    # config_defaults.csv: homecare.nurse_min_title (confirmed) — a title label; this title or above
    homecare_nurse_min_title: str = "护师"

    # Limits of the spreadsheet paths (not in config_defaults.csv: platform limits). The records of one
    # POST /institutions/bulk are ServiceSettings.bulk_max_records (REGISTRY_BULK_MAX_RECORDS, 1000).
    import_max_rows: int = 20000
    import_max_bytes: int = 20 * 1024 * 1024
    nearby_max_radius_km: float = 200.0

    # 示范创建 (issue 8): the rules a new demonstration batch copies when the province opens it.
    # config_defaults.csv: demo.operating_cutoff (confirmed)
    demo_operating_cutoff: date = date(2026, 3, 31)
    # config_defaults.csv: demo.operating_years_min (confirmed)
    demo_operating_years_min: int = 5
    # config_defaults.csv: demo.occupancy_min_pct (confirmed)
    demo_occupancy_min_pct: int = 65
    # config_defaults.csv: demo.disabled_share_min_pct (confirmed)
    demo_disabled_share_min_pct: int = 65
    # config_defaults.csv: demo.satisfaction_min_pct (likely)
    demo_satisfaction_min_pct: int = 95
    # 动态管理: a revoked title bars the county or institution from applying again for this many years
    # (seed 004, work plan 四(五): "3年内不得申请"). Not yet a row of config_defaults.csv (the shared
    # notes are read-only here); proposed key demo.revoked_bar_years, confirmed by the seed.
    demo_revoked_bar_years: int = 3
    # Not in config_defaults.csv: platform limit for one 示范 attachment (PDF/JPEG/PNG).
    demo_attachment_max_bytes: int = 10 * 1024 * 1024
