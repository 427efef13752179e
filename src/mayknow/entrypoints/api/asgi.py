"""Entry point for server worker processes: settings from MAYKNOW_* variables."""

from __future__ import annotations

import os

from fastapi import FastAPI

from mayknow import bootstrap, config
from mayknow.entrypoints.api.app import create_app


def app_from_environment() -> FastAPI:
    return create_app(bootstrap.build(config.load(environ=os.environ)))
