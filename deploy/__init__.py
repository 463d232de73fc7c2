"""How smartstreets runs: the CLI, the embedded all-in-one runner, compose and Kubernetes files."""
