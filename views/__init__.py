"""Presentation: texts, keyboards and CallbackData, built from plain data (never a session)."""
