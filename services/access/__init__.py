"""Who may do what: people, roles, sign-in, audit and access to datasets."""
