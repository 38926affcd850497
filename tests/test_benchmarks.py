"""Every benchmark runs end to end in its --smoke mode, so none of them breaks unnoticed; the time-to-quality
goals are judged right."""
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from fixtures import fetched, load_script

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
# What each benchmark's report must show; a new benchmark must at least print a number.
FIGURES = {"book_timings.py": ["seconds", "peak MB", "machine:"],
           "choose_best.py": ["variant - best, per seed", "95% interval", "verdict", "real-vs-real floor FID",
                              "seeds 100, 101", "peak MB", "machine:"],
           "editing.py": ["held-out accuracy", "sd darker", "design kept", "machine:"],
           "inversion.py": ["held-out emoji into w+", "PSNR mean", "design kept", "machine:"],
           "translation.py": ["target style", "retrieval", "kept", "reconstruction L1", "goal:", "machine:"],
           "tune_modern.py": ["FID", "r3gan, paper's rate", "stylegan2, gamma 0.1", "machine:"],
           "ship_classifiers.py": ["shipped", "reloaded: held-out accuracy", "the same", "machine:"],
           "train_showcase.py": ["FID", "x the floor", "shipped", "reloaded and sampled (4, 64, 64, 3)", "machine:"],
           "throughput.py": ["median", "trainer overhead", "speed against", "peak MB", "machine:", "load average"],
           "time_to_quality.py": ["FID", "memorisation ratio", "best FID", "min to", "speed-up", "does not degrade",
                                  "ends near the floor", "beats dcgan", "does not memorise", "peak MB", "machine:"]}
NEEDS_EMOJI = {"train_showcase.py", "tune_modern.py", "inversion.py", "editing.py", "translation.py"}  # emoji in use
NEEDS_CJK = {"translation.py"}  # it translates Chinese characters too
# throughput.py's rows (regular expressions): each is printed with its figures, or with why it was skipped
THROUGHPUT_ROWS = ["classic, trainer", "classic, plain tf.function", "dcgan, eager", r"dcgan, tf\.function",
                   "dcgan, XLA", "dcgan, mixed precision", r"dcgan, mirrored over \d+ (logical CPUs|GPUs)",
                   r"dcgan, mirrored over (\d+ )?GPUs", r"dcgan, XLA \+ mixed precision", r"pipeline alone \(.*\)",
                   r"classic64, trainer \(64x64x3\)", r"dcgan64, trainer \(64x64x3\)", r"best64, trainer \(64x64x3\)",
                   r"r3gan, trainer \(64x64x3\)", r"stylegan2, trainer \(64x64x3\)",
                   r"fastgan, trainer \(64x64x3\)"]
MEASURED = r"\d+\s+\d+\s+\d+\s+\d+\s+\d+\.\d\d"  # batch, median, min, max, ms/step
SKIPPED = r"-\s+skipped: \S.*"


def test_there_are_benchmarks():
    assert BENCHMARKS, "benchmarks/ holds no scripts"


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_smoke_mode_runs_and_reports_its_figures(script):
    if script.name in NEEDS_EMOJI and not fetched("emoji"):
        pytest.skip("the emoji files are not fetched: python -m gan_utils fetch emoji")
    if script.name in NEEDS_CJK and not fetched("cjk"):
        pytest.skip("the CJK fonts are not fetched: python -m gan_utils fetch cjk")
    run = subprocess.run([sys.executable, str(script), "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, f"{script.name} --smoke exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert re.search(r"\d", run.stdout), f"{script.name} --smoke printed no figures:\n{run.stdout}"
    for figure in FIGURES.get(script.name, []):
        assert figure in run.stdout, f"{script.name} --smoke did not report {figure!r}:\n{run.stdout}"
    if script.name == "throughput.py":
        _check_throughput_rows(run.stdout)


def _check_throughput_rows(stdout):
    """Every row is measured or skipped with a reason, and the rows that a CPU distorts say so."""
    for row in THROUGHPUT_ROWS:
        assert re.search(rf"^{row}\s\s+({MEASURED}|{SKIPPED})$", stdout, re.M), f"no row {row!r}:\n{stdout}"
    if re.search(r"^machine: .*, 0 GPUs,", stdout, re.M):
        assert "dcgan, mirrored over GPUs" in stdout and "skipped: needs 2+ GPUs; this machine has 0" in stdout
        assert re.search(r"^dcgan, XLA \+ mixed precision\s+- +skipped: needs a GPU", stdout, re.M), stdout
        assert re.search(r"^- dcgan, mixed precision: CPUs lack fast float16", stdout, re.M), stdout
    if re.search(rf"^dcgan, mirrored over \d+ logical CPUs\s+{MEASURED}$", stdout, re.M):
        assert re.search(r"^- dcgan, mirrored over \d+ logical CPUs: CPU:0 and CPU:1 are .* share the same .* "
                         r"not a speed-up", stdout, re.M), stdout


def _time_to_quality():
    return load_script(ROOT / "benchmarks" / "time_to_quality.py")


def _run(recipe, fids, ratio=1.3, copies=0.0, seed=0):
    return {"recipe": recipe, "seed": seed, "evaluations": [{"minutes": i, "epochs": i, "steps": 10 * i, "fid": fid,
                                               "memorisation_ratio": ratio, "copies": copies}
                                              for i, fid in enumerate(fids)]}


@pytest.mark.parametrize("best, dcgan_final, failing", [
    (_run("best", [300, 13, 14]), 30, None),
    (_run("best", [300, 13, 14.4]), 30, "no_degradation"),  # 10.8% above its best
    (_run("best", [300, 18, 18]), 60, "near_floor"),  # 3.05x the floor
    (_run("best", [300, 13, 14]), 20, "beats_rival"),  # only 30% below dcgan
    (_run("best", [300, 13, 14], ratio=0.85), 30, "no_memorisation"),
    (_run("best", [300, 13, 14], copies=0.02), 30, "no_memorisation"),
], ids=["all ok", "degrades", "far from the floor", "close to dcgan", "low ratio", "copies"])
def test_time_to_quality_judges_the_best_recipes_goals(best, dcgan_final, failing):
    ttq = _time_to_quality()
    runs = [_run("classic", [300, 120, 200]), _run("dcgan", [300, 40, dcgan_final]), best]
    goal = ttq.summarise(runs, floor=5.9)[3]
    assert {name: check["ok"] for name, check in goal.items()} == {name: name != failing for name in goal}
    assert all(line.endswith(": ok") != (name == failing)
               for name, line in zip(goal, ttq.quality_goal_lines(goal, minutes=10)))


def test_time_to_quality_says_which_goals_it_could_not_measure():
    ttq = _time_to_quality()
    goal = ttq.summarise([_run("classic", [300, 120]), _run("best", [300, 13, 14])], floor=5.9)[3]
    assert [check["measured"] for check in goal.values()] == [True, True, False, True]
    assert "not measured (needs the best and dcgan recipes)" in ttq.quality_goal_lines(goal, minutes=10)[2]


def test_time_to_quality_judges_each_goal_per_seed_and_needs_every_seed():
    ttq = _time_to_quality()
    runs = []
    for seed, best_final in [(0, 14), (1, 14.4), (2, 14)]:  # seed 1 ends 10.8% above its best
        for run in (_run("dcgan", [300, 40, 30]), _run("best", [300, 13, best_final])):
            runs.append({**run, "seed": seed})
    goal = ttq.summarise(runs, floor=5.9)[3]
    assert goal["no_degradation"]["ok_seeds"] == 2 and not goal["no_degradation"]["ok"]
    line = ttq.quality_goal_lines(goal, minutes=10)[0]
    assert line.startswith("best does not degrade: seed 0: ") and "seed 2: " in line
    assert line.endswith("not met (2 of 3 seeds ok)")
    assert goal["beats_rival"]["ok"] and ttq.quality_goal_lines(goal, minutes=10)[2].endswith(": ok")


def test_time_to_quality_table_and_checkpoints_give_mean_and_range_over_seeds():
    ttq = _time_to_quality()
    runs = [{**_run("dcgan", [300, 40, fid]), "seed": seed} for seed, fid in [(0, 20), (1, 30), (2, 70)]]
    table = ttq.summarise(runs, floor=5.9)[1]
    assert table[0]["final_fid"] == {"mean": 40.0, "min": 20.0, "max": 70.0} and table[0]["seeds"] == [0, 1, 2]
    assert table[0]["best_fid"] == {"mean": 30.0, "min": 20.0, "max": 40.0}
    checkpoints = ttq.checkpoints_table(runs)["dcgan"]
    assert [c["fid"]["mean"] for c in checkpoints] == [300.0, 40.0, 40.0] and checkpoints[-1]["fid"]["max"] == 70.0
    assert all(c["seeds"] == 3 for c in checkpoints)


def _choose_best():
    return load_script(ROOT / "benchmarks" / "choose_best.py")


def test_choose_best_uses_seeds_the_chapter_does_not_report():
    from gan_utils import settings

    choose_best = _choose_best()
    chapter = set(range(max(p.comparison_seeds for p in settings.PROFILES.values())))
    assert choose_best.chapter_seeds() == chapter
    assert not chapter & set(choose_best.SEEDS) and len(choose_best.SEEDS) >= settings.PROFILES["cpu"].comparison_seeds
    with pytest.raises(SystemExit):  # refused before any training
        choose_best.main(["--seeds", "0", "100"])


def test_choose_best_reports_one_row_per_technique_with_its_verdict():
    import numpy as np

    from gan_utils import compare, recipes

    choose_best, best = _choose_best(), recipes.get_recipe("best")
    offsets = {"best": 0.0, **{name: 5.0 * (i % 3 - 1) for i, name in enumerate(recipes.one_change_variants(best))}}
    results = [compare.RunScore(name, seed, {"fid": 20.0 + seed + offset + 0.1 * (seed % 2), "kid": 0.0,
                                             "precision": 0.5, "recall": 0.5, "memorisation_ratio": 1.0},
                                1.0, np.zeros((0, 32, 32, 1), "float32"))
               for name, offset in offsets.items() for seed in (100, 101, 102)]
    rows = choose_best.effect_rows(results, best)
    assert [row["technique"] for row in rows] == list(recipes.TECHNIQUES)
    for row in rows:
        expected = offsets[row["variant"]]
        assert row["mean"] == pytest.approx(expected) and row["seeds"] == [100, 101, 102]
        helps = expected > 0 if row["in_baseline"] else expected < 0
        assert row["verdict"] == ("unresolved" if expected == 0 else "helps" if helps else "hurts")
    lines = choose_best.effect_lines(rows, markdown=True)
    assert len(lines) == 2 + len(recipes.TECHNIQUES) and all(line.startswith("| ") for line in lines[2:])


def test_time_to_quality_refuses_an_unknown_variant_before_training(capsys):
    ttq = _time_to_quality()
    with pytest.raises(SystemExit) as stop:
        ttq.main(["--smoke", "--recipes", "best - dropout"])
    assert stop.value.code == 2 and "Unknown technique 'dropout'" in capsys.readouterr().err


def _emoji_run(recipe, fids, copies=0.0, sharpness=1.0, attribute_max_ratio=1.2, images_per_minute=100):
    run = _run(recipe, fids, copies=copies)
    for row in run["evaluations"]:
        row.update(sharpness=sharpness, attribute_max_ratio=attribute_max_ratio,
                   images_seen=row["minutes"] * images_per_minute)
    return run


@pytest.mark.parametrize("winner, failing", [
    (_emoji_run("r3gan", [900, 300, 140]), None),
    (_emoji_run("r3gan", [900, 300, 160]), "beats_rival"),  # 53% of dcgan64's 300
    (_emoji_run("r3gan", [900, 300, 140], copies=0.03), "no_copies"),
    (_emoji_run("r3gan", [900, 300, 140], sharpness=0.75), "sharpness"),  # blur
    (_emoji_run("r3gan", [900, 300, 140], sharpness=1.3), "sharpness"),  # noise
    (_emoji_run("r3gan", [900, 300, 250]), "near_floor"),  # 8.3x the floor, and only 17% below dcgan64
    (_emoji_run("r3gan", [900, 300, 140], attribute_max_ratio=1.6), "attribute_coverage"),
    (_emoji_run("r3gan", [900, 300, 140], attribute_max_ratio=None), "attribute_coverage"),  # a tone never drawn
], ids=["all ok", "not half dcgan64's", "copies", "blurred", "noisy", "far from the floor", "a tone too rare",
        "a tone missing"])
def test_time_to_quality_judges_the_emoji_goals_of_the_recipe_with_the_lowest_final_fid(winner, failing,
                                                                                      monkeypatch):
    ttq = _time_to_quality()
    monkeypatch.setattr(ttq, "SETUP", ttq.SETUPS["emoji"])
    end = winner["evaluations"][-1]  # the rivals end as the winner does: no clean recipe to prefer to it
    rivals = [_emoji_run(name, fids, copies=end["copies"], sharpness=end["sharpness"]) for name, fids in
              [("classic64", [900, 600, 500]), ("dcgan64", [900, 400, 300]), ("best64", [900, 350, 280])]]
    runs = [*rivals, winner]
    assert ttq.quality_recipe(runs) == "r3gan"
    levels, _, goal, quality = ttq.summarise(runs, floor=30.0)
    assert list(quality) == ["beats_rival", "no_copies", "sharpness", "near_floor", "attribute_coverage"]
    failed = [name for name, check in quality.items() if not check["ok"]]
    assert failed == ([failing] if failing != "near_floor" else ["beats_rival", "near_floor"]) if failing else not failed
    lines = ttq.quality_goal_lines(quality, minutes=15)
    assert lines[0].startswith("r3gan beats dcgan64") and "goal <= -50%" in lines[0]
    assert "goal 0.8 to 1.25" in lines[2] and "moonshot <= 5x" in lines[3]
    assert "covers every skin tone" in lines[4] and lines[4].endswith(": ok" if failing != "attribute_coverage"
                                                                      else "(0 of 1 seeds ok)")
    assert goal["per_seed"][0]["fast_minutes"] == 1 and goal["per_seed"][0]["baseline_minutes"] == 2
    assert levels[0]["label"] == "classic64 best"


@pytest.mark.parametrize("flaw", [{"copies": 0.03}, {"sharpness": 1.5}, {"sharpness": 0.7}],
                         ids=["copies", "noisy", "blurred"])
def test_time_to_quality_makes_no_default_of_a_low_fid_with_artefacts_or_copies(flaw, monkeypatch):
    ttq = _time_to_quality()
    monkeypatch.setattr(ttq, "SETUP", ttq.SETUPS["emoji"])
    runs = [_emoji_run("dcgan64", [900, 400, 200], **flaw), _emoji_run("best64", [900, 350, 280]),
            _emoji_run("r3gan", [900, 500, 300])]
    assert ttq.quality_recipe(runs) == "best64"  # the lowest FID among the clean ones
    assert ttq.quality_recipe(runs[:1]) == "dcgan64"  # with no clean recipe, the lowest FID is judged (and fails)


def test_time_to_quality_compares_the_modern_recipes_at_equal_time_and_at_equal_images(monkeypatch):
    ttq = _time_to_quality()
    monkeypatch.setattr(ttq, "SETUP", ttq.SETUPS["emoji"])
    # dcgan64 sees 200 images a minute, stylegan2 50: after 2 minutes 400 against 100 images
    runs = [_emoji_run("dcgan64", [900, 400, 300], images_per_minute=200),
            _emoji_run("stylegan2", [900, 500, 350], images_per_minute=50)]
    [row] = ttq.equal_footing(runs)
    assert (row["contender"], row["classic"], row["images"]) == ("stylegan2", "dcgan64", 100)
    assert row["fid_at_time"] == [350, 300]
    assert row["fid_at_images"] == [350, pytest.approx(900 - 500 * 100 / 200)]  # dcgan64 halfway to its 1st eval
    [line] = ttq.equal_footing_lines([row])
    assert "FID 350.0 vs 300.0 (dcgan64 lower)" in line and "at 100 images seen FID 350.0 vs 650.0 (stylegan2 lower)" \
        in line


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_time_to_quality_on_emoji_runs_in_smoke_mode_and_reports_its_goals():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "time_to_quality.py"), "--smoke", "--dataset",
                          "emoji"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    for figure in ["time to quality on emoji (64x64", "dcgan64", "fastgan", "images seen", "goal: not measured",
                   "ends near the floor", "makes no copies", "is as sharp as the data", "covers every skin tone",
                   "attribute share ratio", "fastgan vs dcgan64 (seed 0): after", "images seen FID",
                   "on 15-minute FID", "peak MB"]:
        assert figure in run.stdout, f"no {figure!r}:\n{run.stdout}"


def test_time_to_quality_stores_each_run_and_refuses_a_stale_one(tmp_path):
    ttq = _time_to_quality()
    recipe = ttq.recipe_named("dcgan64")
    samples = np.linspace(-1, 1, 2 * 64 * 64 * 3, dtype="float32").reshape(2, 64, 64, 3)
    run = {**_run("dcgan64", [900, 300]), "recipe_json": json.loads(recipe.to_json()), "minutes": 15.0,
           "samples": samples}
    ttq.store_run(tmp_path, run)
    again = ttq.stored_run(tmp_path, "dcgan64", 0, 15.0)
    assert again["evaluations"] == run["evaluations"]
    np.testing.assert_allclose(again["samples"], samples, atol=1 / 127.5)  # stored as uint8
    assert ttq.stored_run(tmp_path, "dcgan64", 1, 15.0) is None  # another seed: not stored, so it runs
    with pytest.raises(SystemExit, match="another budget"):
        ttq.stored_run(tmp_path, "dcgan64", 0, 10.0)
    stale = {**run, "recipe_json": {**run["recipe_json"], "g_learning_rate": 1.0}}
    ttq.store_run(tmp_path, stale)
    with pytest.raises(SystemExit, match="another definition"):
        ttq.stored_run(tmp_path, "dcgan64", 0, 15.0)


def test_time_to_quality_words_each_comparison_through_the_noise_aware_helper():
    ttq = _time_to_quality()
    separated = [_run("dcgan64", [900, f], seed=s) for s, f in enumerate([300, 320, 310])] + \
        [_run("fastgan", [900, f], seed=s) for s, f in enumerate([100, 120, 90])]
    [line] = ttq.verdict_lines(separated, "dcgan64")
    assert line.startswith("fastgan beats dcgan64 on 15-minute FID") and "ranges separate" in line
    overlapping = separated[:3] + [_run("fastgan", [900, f], seed=s) for s, f in enumerate([330, 280, 315])]
    [line] = ttq.verdict_lines(overlapping, "dcgan64")
    assert "not resolved at this budget" in line
    assert ttq.verdict_lines(separated, "best64") == []  # a recipe that did not run is compared with nothing


def test_book_timings_build_mode_finds_each_kernels_peak_memory(tmp_path):
    """--build's watcher: every kernel below the watched command is found, in start order, with its peak RSS."""
    timings = load_script(ROOT / "benchmarks" / "book_timings.py")
    kernel = ("import sys, time, numpy as np; block = np.ones(int(sys.argv[1]) * 2**20 // 8); time.sleep(2.5)"
              "  # ipykernel stand-in")
    parent = (f"import subprocess, sys; [subprocess.run([sys.executable, '-c', {kernel!r}, str(mb)]) "
              "for mb in (60, 180)]; subprocess.run([sys.executable, '-c', 'import time; time.sleep(2)'])")
    code, seconds, peaks = timings.watch([sys.executable, "-c", parent], dict(os.environ), tmp_path / "log")
    assert code == 0 and seconds > 4
    assert len(peaks) == 2, peaks  # the third child is no kernel
    assert 60 <= peaks[0] < 180 <= peaks[1] < 180 + 200, peaks  # each at least its array, in start order


def test_book_timings_build_starts_from_a_book_cache_holding_only_the_fetched_data(tmp_path, monkeypatch):
    """--build's book cache links the fetched packages and datasets and nothing the book trains (classifiers)."""
    timings = load_script(ROOT / "benchmarks" / "book_timings.py")
    cache = tmp_path / "cache"
    for name in ("packages", "datasets", "classifier-digits-0123"):
        (cache / name).mkdir(parents=True)
        (cache / name / "file").write_text(name)
    monkeypatch.setenv("GAN_BOOK_CACHE", str(cache))
    fresh = timings.fresh_book_cache(tmp_path / "out")
    assert sorted(p.name for p in fresh.iterdir()) == ["datasets", "packages"]
    assert all((fresh / name / "file").read_text() == name for name in ("datasets", "packages"))
    assert timings.build("cpu", tmp_path / "out") == 1  # its cache exists: no build, a clear refusal


def test_the_shipped_classifiers_are_those_of_this_training_code():
    """A change to how the classifiers train outdates the shipped ones: this fails until they are trained again."""
    if not (fetched("emoji") and fetched("cjk")):
        pytest.skip("the emoji and CJK files are not fetched: python -m gan_utils fetch all")
    ship = load_script(ROOT / "benchmarks" / "ship_classifiers.py")
    assert ship.check(ship.features.SHIPPED_DIR), "outdated: run python benchmarks/ship_classifiers.py"
