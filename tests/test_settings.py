"""Profiles, their selection, seeding and the banner."""
import os
import pathlib

import numpy as np
import pytest
from fixtures import load_script

from gan_utils import settings

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_env_variable_overrides_the_hardware_choice():
    profile, why = settings.choose_profile(env={"GAN_BOOK_PROFILE": "smoke"}, gpus=["/gpu:0"])
    assert profile.name == "smoke" and "GAN_BOOK_PROFILE" in why


def test_profile_name_is_case_and_space_insensitive():
    assert settings.choose_profile(env={"GAN_BOOK_PROFILE": " CPU "}, gpus=[])[0].name == "cpu"


@pytest.mark.parametrize("gpus, expected", [([], "cpu"), (["/physical_device:GPU:0"], "gpu")])
def test_auto_detection_picks_gpu_only_when_tensorflow_sees_one(gpus, expected):
    assert settings.choose_profile(env={}, gpus=gpus)[0].name == expected
    assert settings.choose_profile(env={"GAN_BOOK_PROFILE": "auto"}, gpus=gpus)[0].name == expected


def test_auto_detection_asks_tensorflow_for_gpus(monkeypatch):
    monkeypatch.setattr(settings, "gpu_devices", lambda: ["/physical_device:GPU:0"])
    assert settings.choose_profile(env={})[0].name == "gpu"


def test_unknown_profile_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"'fast' is not a profile; use one of smoke, cpu, gpu"):
        settings.choose_profile(env={"GAN_BOOK_PROFILE": "fast"}, gpus=[])


def test_this_machine_has_no_gpu_so_current_reports_cpu_device(monkeypatch):
    monkeypatch.setenv("GAN_BOOK_PROFILE", "smoke")
    current = settings.current()
    assert current.profile is settings.PROFILES["smoke"]
    assert current.device.startswith("CPU") or "GPU" in current.device


def test_current_with_a_mocked_gpu_picks_the_gpu_profile(monkeypatch):
    monkeypatch.delenv("GAN_BOOK_PROFILE", raising=False)
    monkeypatch.setattr(settings, "gpu_devices", lambda: ["/physical_device:GPU:0"])
    current = settings.current()
    assert current.profile.name == "gpu" and current.device == "1 GPU(s)"
    assert current.profile.mixed_precision and current.profile.jit_compile == "auto"


def test_banner_is_one_line_naming_profile_device_dataset_and_how_to_change():
    line = settings.Settings(settings.PROFILES["cpu"], "CPU (2 cores)", "auto-detected").banner()
    assert "\n" not in line
    for part in ("'cpu'", "CPU (2 cores)", "'digits'", "GAN_BOOK_PROFILE=smoke|cpu|gpu", "auto-detected"):
        assert part in line


def test_profiles_grow_in_budget_from_smoke_to_gpu():
    smoke, cpu, gpu = (settings.PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    assert smoke.toy_steps < cpu.toy_steps <= gpu.toy_steps
    assert smoke.d_check_steps < cpu.d_check_steps <= gpu.d_check_steps
    assert smoke.dataset in ("digits", "shapes") and cpu.dataset in ("digits", "shapes")
    assert not smoke.mixed_precision and not cpu.mixed_precision
    assert smoke.comparison_epochs < cpu.comparison_epochs <= gpu.comparison_epochs
    assert smoke.leak_epochs < cpu.leak_epochs <= gpu.leak_epochs


def test_chapter_6_comparison_has_enough_seeds_for_an_interval_except_in_smoke():
    smoke, cpu, gpu = (settings.PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    # chapter 6 reports paired differences with a t interval over seeds 0..comparison_seeds-1: five at least
    assert cpu.comparison_seeds >= 5 and gpu.comparison_seeds >= 5
    assert 1 <= smoke.comparison_seeds <= 2 and smoke.comparison_images is not None  # smoke checks code, not quality
    assert smoke.comparison_epochs * smoke.comparison_seeds < cpu.comparison_epochs * cpu.comparison_seeds


@pytest.mark.parametrize("name", ["smoke", "cpu", "gpu"])
def test_eval_epochs_increase_and_end_at_the_profiles_epochs(name):
    profile = settings.PROFILES[name]
    assert list(profile.eval_epochs) == sorted(set(profile.eval_epochs)) and profile.eval_epochs[0] >= 1
    assert profile.eval_epochs[-1] == profile.epochs


def test_only_the_cpu_profile_bounds_its_long_runs_by_minutes_within_each_chapters_budget():
    book_timings = load_script(ROOT / "benchmarks" / "book_timings.py")
    smoke, cpu, gpu = (settings.PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    for field in ("run_minutes", "modern_minutes"):  # smoke is short by its epochs; gpu trains in full
        assert getattr(smoke, field) is None and getattr(gpu, field) is None, field
    # chapter: (field, bounded runs in it); the bounded runs must leave the chapter time for everything else
    bounded = {"04_training_loop": ("run_minutes", 1), "05_evaluation": ("run_minutes", 1),
               "07_conditional": ("run_minutes", 1), "11_scaling": ("run_minutes", 1),
               "08_modern": ("modern_minutes", 3)}
    for name, (field, runs) in bounded.items():
        assert 0 < runs * getattr(cpu, field) < book_timings.CPU_MINUTES_GOAL[f"book/{name}.ipynb"], name
        assert f"profile.{field}" in (ROOT / "book" / f"{name}.ipynb").read_text(), name


def test_seed_everything_repeats_python_numpy_and_tensorflow_draws():
    import random

    import keras

    def draw():
        return random.random(), np.random.rand(), float(keras.random.normal(()).numpy())

    settings.seed_everything(7)
    first = draw()
    settings.seed_everything(7)
    assert draw() == first
    settings.seed_everything(8)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        settings.seed_everything(bad)


def test_quiet_tensorflow_sets_the_log_level(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    settings.quiet_tensorflow()
    import os

    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_machine_info_names_the_machine_and_its_line_says_it():
    info = settings.machine_info()
    assert info["cpus"] == os.cpu_count() and info["gpus"] == len(settings.gpu_devices())
    assert set(info) == {"cpus", "gpus", "platform", "python", "tensorflow", "keras", "date"}
    line = settings.machine_line(info)
    assert line.startswith(f"machine: {info['cpus']} CPUs, {info['gpus']} GPUs, ") and info["date"] in line


def _write_pair(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"fid": 1.5}\n')
    path.with_suffix(".md").write_text("| fid |\n")


def test_store_results_keeps_real_runs_and_reads_back_smoke_runs_without_keeping_them(tmp_path, capsys):
    default = tmp_path / "results" / "bench.json"
    written = []
    settings.store_results(lambda path: (written.append(path), _write_pair(path)), None, default, smoke=True)
    assert written[0].name == "bench.json" and not written[0].exists() and not default.exists()
    assert "read back and removed" in capsys.readouterr().out
    settings.store_results(_write_pair, None, default, smoke=False)
    assert default.exists() and default.with_suffix(".md").exists()
    chosen = tmp_path / "elsewhere.json"
    settings.store_results(_write_pair, chosen, default, smoke=True)  # --json keeps a smoke run's files
    assert chosen.exists() and f"results: {chosen}" in capsys.readouterr().out.splitlines()[-1]


def test_store_results_smoke_fails_on_unreadable_json(tmp_path):
    def broken(path):
        path.write_text("{not json")
        path.with_suffix(".md").write_text("")

    with pytest.raises(ValueError):
        settings.store_results(broken, None, tmp_path / "bench.json", smoke=True)
