"""Running the installation: whether it can work right now (health), for operators and admins."""
