"""Webhooks the providers call: delivery receipts, messages from people, account alerts."""
