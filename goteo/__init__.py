"""goteo: send a WhatsApp promotion to every customer, a few a day, never twice."""

__version__ = "0.1.0"
