"""What a contact is about: hazard rules, the trained Thai model, the taxonomy, its labels."""
