"""Entry point for server worker processes: settings from MAYKNOW_* variables."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from mayknow import bootstrap, config
from mayknow.entrypoints.api.app import create_app

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def app_from_environment() -> FastAPI:
    # A worker process starts with no logging set up: give it the same as `serve`.
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(bootstrap.build(config.load(environ=os.environ)))
