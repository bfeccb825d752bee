"""Reviews: studies and claims kept in one human-editable YAML file per review, and their tables."""
