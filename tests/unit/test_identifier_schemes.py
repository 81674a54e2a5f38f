"""An identifier column of a scheme the classifier does not know (a customs code) declared as a
scheme of its own: carried as `scheme:value`, matched exactly within its scheme."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app
from creditgraph.linkage.identifiers import classify
from creditgraph.loaders.manifest import ManifestError, load_manifest
from creditgraph.loaders.reader import read_manifest

CUSTOMS = """
dataset: customs
sources:
  - name: customs
    department: customs
    file: customs.csv
    record_id: 记录号
    parties:
      subject:
        kind: enterprise
        fields: {name: 企业名称, identifiers: [统一社会信用代码, IDENT]}
"""
ROWS = ("记录号,企业名称,统一社会信用代码,海关编码\n"
        "1,营口鑫达贸易有限公司,,2108960123\n"
        "2,鑫达国际物流(营口)有限公司,, 2108 960123 \n"      # the same code, a name scoring would not match
        "3,营口华盛建材有限公司,,2108960777\n")


def write(tmp_path, ident="{column: 海关编码, scheme: customs_code}"):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(CUSTOMS.replace("IDENT", ident)), encoding="utf-8")
    (tmp_path / "customs.csv").write_text(ROWS, encoding="utf-8")
    return load_manifest(tmp_path / "manifest.yaml")


def test_a_declared_scheme_is_carried_with_its_values(tmp_path):
    mentions = read_manifest(write(tmp_path)).frames()["mentions"]
    assert mentions["identifiers"].tolist() == ["customs_code:2108960123", "customs_code:2108 960123",
                                                "customs_code:2108960777"]


def test_a_declared_scheme_classifies_as_itself():
    ident = classify("customs_code: 2108 960123")
    assert (ident.type, ident.value, ident.valid, ident.org_code) == ("customs_code", "2108960123", True, None)
    assert classify("2108960123").type == "unknown"    # undeclared, the same value says nothing


def test_mentions_sharing_a_declared_code_are_one_entity_and_other_codes_are_not(tmp_path, monkeypatch):
    write(tmp_path)
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["resolve", "--manifest", str(tmp_path / "manifest.yaml"),
                                          "--out", str(tmp_path / "out")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    entity = pd.read_csv(tmp_path / "out" / "mentions.csv", dtype=str).set_index("record_id")["entity_id"]
    assert entity["1"] == entity["2"] and entity["3"] != entity["1"]


@pytest.mark.parametrize("ident,message", [
    ("{column: 海关编码, scheme: Customs-Code}", r"scheme 'Customs-Code'.*lower-case"),
    ("{column: 海关编码, scheme: uscc}", r"scheme 'uscc' is a built-in"),
    ("{column: 海关编码, scheme: customs_code, type: date}", r"scheme.*text"),
])
def test_a_bad_scheme_is_a_manifest_error_naming_source_and_field(tmp_path, ident, message):
    with pytest.raises(ManifestError, match=r"source 'customs': .*field 'identifiers': .*" + message):
        write(tmp_path, ident)


def test_a_scheme_goes_with_identifiers_only(tmp_path):
    text = CUSTOMS.replace("identifiers: [统一社会信用代码, IDENT]", "address: {column: 海关编码, scheme: customs_code}")
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"source 'customs': .*field 'address': .*`scheme` goes with `identifiers`"):
        load_manifest(tmp_path / "manifest.yaml")
