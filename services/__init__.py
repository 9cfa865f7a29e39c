"""Research Desk services: all logic and I/O. Never imports streamlit."""
