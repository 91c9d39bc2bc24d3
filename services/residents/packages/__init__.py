"""家庭医生签约服务包: versioned basic and personalised packages with their items and fees."""
