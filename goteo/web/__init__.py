"""The dashboard: server-rendered pages to watch, steer and launch campaigns."""
