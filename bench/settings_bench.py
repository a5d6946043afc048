"""Settings for the django-import-export baseline of bench/import_people.py only: Gezhi's
settings plus the `import_export` app. The application never installs it."""

from gezhi.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "import_export"]  # noqa: F405
