"""The five services: how to build each one's app and which port it listens on."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Literal, get_args

from fastapi import FastAPI

from shared.runtime import Runtime
from shared.settings import Settings

ServiceName = Literal["intake", "privacy", "routing", "notify", "console"]
SERVICES: tuple[str, ...] = get_args(ServiceName)


def app_factory(service: str) -> Callable[[Runtime], FastAPI]:
    """Return ``services.<service>.app.create_app``."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{service}.app")
    factory: Callable[[Runtime], FastAPI] = module.create_app
    return factory


def port_of(settings: Settings, service: str) -> int:
    """Return the HTTP port ``service`` listens on."""
    port: int = getattr(settings, f"{service}_port")
    return port
