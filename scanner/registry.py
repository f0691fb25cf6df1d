"""Probe discovery: the built-in probes in ``probes/`` plus installed plugins.

A plugin is any installed distribution that registers an entry point in the group
``mlscan.probes`` pointing at a :class:`~scanner.probe.Probe` object (or a module with ``PROBE``/
``PROBES``). Plugins are code the user installed; code from a scanned repository is never loaded.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata
from types import ModuleType
from typing import Iterable

from .probe import Kind, Probe

ENTRY_POINT_GROUP = "mlscan.probes"


class RegistryError(Exception):
    pass


def _probes_of(obj: object, origin: str) -> list[Probe]:
    if isinstance(obj, Probe):
        return [obj]
    if isinstance(obj, ModuleType):
        found = [getattr(obj, "PROBE", None), *getattr(obj, "PROBES", ())]
        return [p for p in found if isinstance(p, Probe)]
    if isinstance(obj, (list, tuple)) and all(isinstance(p, Probe) for p in obj):
        return list(obj)
    raise RegistryError(f"{origin} is not a Probe, a list of probes, or a module defining PROBE")


def builtin_probes() -> list[Probe]:
    import probes as package

    found: list[Probe] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"probes.{info.name}")
        found += _probes_of(module, f"probes.{info.name}")
    return found


def plugin_probes() -> list[Probe]:
    found: list[Probe] = []
    for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = entry.load()
        except Exception as exc:
            raise RegistryError(f"plugin probe {entry.name!r} ({entry.value}) failed to load: {exc}") from exc
        found += _probes_of(obj, f"entry point {entry.name!r}")
    return found


def all_probes(extra: Iterable[Probe] = ()) -> list[Probe]:
    """Every probe, sorted by id; duplicate probe ids or kind names are an error."""
    probes = builtin_probes() + plugin_probes() + list(extra)
    seen_ids: dict[str, Probe] = {}
    seen_kinds: dict[str, str] = {}
    for probe in probes:
        if probe.id in seen_ids:
            raise RegistryError(f"two probes share the id {probe.id!r}")
        seen_ids[probe.id] = probe
        for kind in probe.kinds:
            if kind.name in seen_kinds:
                raise RegistryError(f"kind {kind.name!r} is declared by both {seen_kinds[kind.name]!r} and {probe.id!r}")
            seen_kinds[kind.name] = probe.id
    return sorted(probes, key=lambda p: p.id)


def kind_index(probes: Iterable[Probe]) -> dict[str, Kind]:
    return {kind.name: kind for probe in probes for kind in probe.kinds}
