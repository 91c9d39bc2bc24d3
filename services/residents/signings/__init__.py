"""A resident's 家庭医生签约 contract with one team: sign, renew, terminate, transfer; signing and renewal
rates by region."""
