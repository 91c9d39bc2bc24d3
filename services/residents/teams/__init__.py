"""家庭医生团队 (三师两员) at a primary-care institution and their members."""
