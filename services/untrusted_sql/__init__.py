"""SQL we did not write: the parser guard and the sandbox that runs it in child processes."""
