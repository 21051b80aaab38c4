"""Presentation: every text, keyboard and CallbackData, one module per feature.

Views take plain data (dataclasses, primitives, ORM rows already loaded), never a database
session; they return text and markup, and handlers or the scheduler send them."""
