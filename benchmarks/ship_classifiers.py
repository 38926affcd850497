"""Train the feature classifiers that ship with the book (gan_utils/classifiers), and check the shipped ones.

    python benchmarks/ship_classifiers.py            # emoji and cjk with the cpu and gpu profiles' settings
    python benchmarks/ship_classifiers.py --check    # only say whether each shipped classifier matches this code
    python benchmarks/ship_classifiers.py --smoke    # ships a 1-epoch digits classifier into a temporary folder

The classifiers of the 64x64 datasets take minutes to train on 2 cores, and every reader, every Colab runtime and
every build from an empty cache would train the same one again: gan_utils.features.dataset_classifier loads the
shipped one when its key (dataset, settings, training code) matches, and trains its own otherwise (the smoke
profile's 1-epoch classifiers, or any change to the training code, which outdates the shipped ones: this script
then trains them again and removes the outdated files). The cpu and gpu profiles train their classifiers alike,
so one shipped classifier serves both.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

from gan_utils import cjk, data, emoji, evaluate, features, settings

DATASETS = {"emoji": emoji.ATTRIBUTION, "cjk": cjk.ATTRIBUTION}  # the 64x64 datasets, with their data's attribution
LICENCE = ("The weights: CC BY 4.0, like the showcase model's (credit the data as data_attribution says); the code "
           "that builds and loads them: MIT, like the rest of gan_utils.")
PROFILES = ("cpu", "gpu")  # the profiles a shipped classifier serves


def shipped_settings(dataset_name: str) -> features.ClassifierSettings:
    """The one classifier setting the cpu and gpu profiles share for this dataset."""
    chosen = {evaluate.classifier_settings_for(dataset_name, settings.PROFILES[name]) for name in PROFILES}
    if len(chosen) != 1:
        raise ValueError(f"the {', '.join(PROFILES)} profiles train different {dataset_name} classifiers "
                         f"({chosen}); ship one per profile or make them agree.")
    return chosen.pop()


def check(folder: pathlib.Path) -> bool:
    """Print, for each dataset, whether a classifier for this code and these settings is shipped in `folder`."""
    ok = True
    for name in DATASETS:
        dataset = data.load(name)
        key = features.classifier_key(dataset, shipped_settings(name))
        found = (folder / f"{name}-{key}.json").exists()
        print(f"{name}: {'shipped' if found else 'NOT shipped'} for key {key}")
        ok &= found
    return ok


def ship(dataset: data.ImageDataset, classifier_settings: features.ClassifierSettings, folder: pathlib.Path) -> None:
    """Train and write one shipped classifier, with its licence and its data's attribution, and remove the
    dataset's outdated ones."""
    attribution = DATASETS.get(dataset.name, "see the datasets page")
    weights = features.ship_classifier(dataset, classifier_settings, folder,
                                       record={"licence": LICENCE, "data_attribution": attribution})
    for old in folder.glob(f"{dataset.name}-*.*"):
        if old.stem != weights.stem:
            old.unlink()
    record = folder / f"{weights.stem}.json"
    print(f"shipped {weights} ({weights.stat().st_size / 1e6:.2f} MB) and {record.name}")


def reload_check(dataset: data.ImageDataset, classifier_settings: features.ClassifierSettings,
                 folder: pathlib.Path) -> bool:
    """Load the shipped classifier as dataset_classifier would, and recompute its label accuracy on the images it
    never saw: the same as the recorded one unless the weights did not survive the round trip."""
    key = features.classifier_key(dataset, classifier_settings)
    model, recorded = features.load_shipped(folder / f"{dataset.name}-{key}.json", dataset, classifier_settings)
    accuracy = features.held_out_accuracy(model, dataset, classifier_settings)
    same = abs(accuracy - recorded) < 1e-9
    print(f"reloaded: held-out accuracy {accuracy:.4f}, recorded {recorded:.4f}: {'the same' if same else 'DIFFERENT'}")
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the shipped classifiers against this code")
    parser.add_argument("--smoke", action="store_true", help="a 1-epoch digits classifier into a temporary folder")
    args = parser.parse_args(argv)
    settings.quiet_tensorflow()
    reloaded = True
    if args.smoke:
        digits, weak = data.load("digits"), features.ClassifierSettings(epochs=1)
        with tempfile.TemporaryDirectory(prefix="gan_book_ship_") as folder:
            ship(digits, weak, pathlib.Path(folder))
            reloaded = reload_check(digits, weak, pathlib.Path(folder))
    elif not args.check:
        for name in DATASETS:
            dataset = data.load(name)
            ship(dataset, shipped_settings(name), features.SHIPPED_DIR)
            reloaded &= reload_check(dataset, shipped_settings(name), features.SHIPPED_DIR)
    shipped = check(features.SHIPPED_DIR)
    print(settings.machine_line(settings.machine_info()))
    return 0 if reloaded and (shipped or args.smoke) else 1


if __name__ == "__main__":
    sys.exit(main())
