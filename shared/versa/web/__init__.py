"""The web surface: the Lambda handler and routes, the service behind them, HTTP semantics, the local server and the preview studio."""
