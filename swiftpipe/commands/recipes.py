"""`swiftpipe recipes`: list the shipped recipes, one line each (like torchtune's `tune ls`)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click

from swiftpipe.core.errors import UserError

SUFFIX = ".yaml"


@dataclass(frozen=True)
class Recipe:
    name: str
    path: Path
    description: str


def recipe_dir() -> Path:
    """The folder holding the recipes: package data, so a source checkout and a wheel agree."""
    return Path(str(resources.files("swiftpipe.recipes")))


def all_recipes() -> list[Recipe]:
    """Every shipped recipe, sorted by name."""
    found = sorted((p for p in recipe_dir().iterdir() if p.suffix == SUFFIX and p.is_file()), key=lambda p: p.stem)
    return [Recipe(p.stem, p, describe(p)) for p in found]


def describe(path: Path) -> str:
    """The first sentence of the recipe's opening comment (its first paragraph, joined)."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("#").strip())
    text = " ".join(w for w in words if w)
    head, dot, _ = text.partition(". ")
    return head + ("." if dot else "")


def find(name: str) -> Recipe:
    """The recipe called `name` (its file name, with or without .yaml)."""
    stem = name.removesuffix(SUFFIX)
    recipes = all_recipes()
    for recipe in recipes:
        if recipe.name == stem:
            return recipe
    names = ", ".join(r.name for r in recipes)
    raise UserError(f"{name}: no such recipe, choose one of: {names} (swiftpipe recipes lists them)")


def recipes() -> int:
    items = all_recipes()
    width = max(len(r.name) for r in items)
    for recipe in items:
        click.echo(f"{recipe.name:<{width}}  {recipe.description}")
    click.echo(f"\ncopy one to edit: swiftpipe init RECIPE [DIR]   (files in {recipe_dir()})")
    return 0
