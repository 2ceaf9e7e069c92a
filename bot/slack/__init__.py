"""The Slack app: Bolt listeners over the shared pipeline."""
