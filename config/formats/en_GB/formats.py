"""Dates as the public pages have always written them ("3 December 2026"), for LANGUAGE_CODE en-gb;
another language uses Django's own formats for it (FORMAT_MODULE_PATH looks here first)."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
