"""The plain settings (secscan.config.values and the section modules) mirror the pydantic schema
(secscan.config.schema) field by field: same names, same defaults, same required fields; and a
consumer of the settings never imports pydantic."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from secscan.config.schema.base import ConfigModel
from secscan.config.schema.settings import _VALUES

SECTIONS = ("cache", "daemon", "fleet", "github", "notify", "report", "settings")


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for section in SECTIONS:
        module = importlib.import_module(f"secscan.config.schema.{section}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ConfigModel) and value is not ConfigModel:
                found[value.__name__] = value
    return sorted(found.values(), key=lambda m: m.__name__)


def _schema_default(info: Any) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


def _values_default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return PydanticUndefined if field.default is dataclasses.MISSING else field.default


def _plain(value: Any) -> Any:
    """A schema default as the values hold it (a model's default is its values class's)."""
    if isinstance(value, BaseModel):
        return _VALUES[type(value).__name__](
            **{k: _plain(getattr(value, k)) for k in type(value).model_fields}
        )
    return value


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_each_schema_model_has_its_values_class_field_by_field(model: type[BaseModel]) -> None:
    values = _VALUES[model.__name__]
    assert dataclasses.is_dataclass(values)
    params = values.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen
    fields = {f.name: f for f in dataclasses.fields(values)}
    assert list(fields) == list(model.model_fields)
    for name, info in model.model_fields.items():
        schema = _schema_default(info)
        if name == "type" and schema is PydanticUndefined:  # a channel's tag: the values know it
            continue
        assert _values_default(fields[name]) == _plain(schema), name


def test_the_models_are_all_found() -> None:
    assert len(_models()) >= 25


def test_a_run_does_not_import_pydantic_once_its_settings_are_remembered(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[scan]\nfail_on = "low"\n[scanners.bandit]\ntimeout = 60\n')
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import secscan.app.run, secscan.cli.run\n"
        "from secscan.config.memo import load_settings_memo\n"
        f"settings = load_settings_memo(Path({str(config)!r}), folder=Path({str(tmp_path / 'memo')!r}))\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('pydantic', 'secscan.config.schema')))\n"
        "print(json.dumps([settings.scan.fail_on, settings.scanner('bandit').timeout, heavy]))\n"
    )
    first, second = (
        json.loads(
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(2)
    )
    assert first[:2] == second[:2] == ["low", 60.0]
    assert "pydantic" in first[2]  # validated the first time ...
    assert second[2] == []  # ... remembered the second
