"""Use cases: business rules from core/ applied to storage/. No aiogram here."""
