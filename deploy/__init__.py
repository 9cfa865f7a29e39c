"""Running Research Desk for a team: the local team set-up (`make team`)."""
