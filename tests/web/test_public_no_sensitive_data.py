"""docs/architecture.md "Security" (public data): anonymous HTML, JSON, CSV, XLSX and PDF text never carry an ID number,
a phone number, a person's check results or uploaded files. Every public whitelist output is collected for a provider
whose dossier holds all of these, then searched."""
import io
import json
import re
import subprocess

import pytest

from registry.people.models import CHECK_RESULT_LABELS, CHECK_TYPE_LABELS
from tests.fixtures.providers import id_number_for

ID_NUMBER = re.compile(r"\d{17}[\dXx]")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _pdf_text(data, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _xlsx_text(data):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
                     if cell.value is not None)


@pytest.fixture
def outputs(client, published, tmp_path):
    provider, token, batch = published["provider"], published["certificate"].token, published["batch"]
    texts = {}
    for url in ("/whitelist", "/whitelist?q=跳", f"/whitelist/providers/{provider.id}", "/whitelist/changes",
                f"/verify/{token}", "/api/v1/whitelist", f"/api/v1/whitelist/providers/{provider.id}",
                "/api/v1/whitelist/changes", f"/api/v1/whitelist/verify/{token}", "/whitelist/export.json",
                "/whitelist/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        # JSON escapes Chinese as \uXXXX: search the decoded document, or Chinese words could never match.
        texts[url] = (json.dumps(response.get_json(), ensure_ascii=False) if response.is_json
                      else response.get_data(as_text=True))
    texts["xlsx"] = _xlsx_text(client.get("/whitelist/export.xlsx").data)
    texts["announcement"] = _pdf_text(client.get(f"/whitelist/batches/{batch.id}/announcement.pdf").data, tmp_path,
                                      "a.pdf")
    texts["certificate"] = _pdf_text(client.get(f"/whitelist/providers/{provider.id}/certificate.pdf").data, tmp_path,
                                     "c.pdf")
    return texts


def test_public_outputs_carry_no_sensitive_data(outputs, published):
    provider, person = published["provider"], published["person"]
    # Controls: the outputs hold the public data, and the pattern does catch an ID number.
    for name, text in outputs.items():
        assert provider.name in text, name
    assert ID_NUMBER.search(id_number_for(1))
    forbidden = [person.id_masked, provider.contact_phone, person.phone, person.name, provider.contact_name,
                 provider.legal_representative, provider.address, "南昌市公安局红谷滩分局", "/files/", "同意书",
                 "business_license", "safety_plan", "NO-liability_insurance", *CHECK_TYPE_LABELS.values(),
                 *CHECK_RESULT_LABELS.values(), *(check.reference_no for check in person.checks)]
    for name, text in outputs.items():
        assert not ID_NUMBER.search(text), (name, ID_NUMBER.search(text))
        assert not MOBILE.search(text), (name, MOBILE.search(text))
        for word in forbidden:
            assert word not in text, (name, word)
