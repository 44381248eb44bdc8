"""Every REGISTRY_ variable the code reads is documented in the README."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_config_variable_is_documented():
    source = (ROOT / "registry" / "config.py").read_text()
    names = set(re.findall(r'_env(?:_bool)?\("([A-Z_]+)"', source)) | {"INSTANCE_DIR"}
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in names if f"REGISTRY_{n}" not in readme)
    assert names and not missing, f"undocumented: {missing}"
