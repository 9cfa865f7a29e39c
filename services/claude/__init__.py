"""Claude: the one SDK client, Ask, its prompts, conversations and usage."""
