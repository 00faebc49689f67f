"""The deployment's organisation: its YAML file and what an admin put in force over it."""
