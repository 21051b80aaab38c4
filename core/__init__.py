"""Business rules as plain functions: no aiogram, no database."""
