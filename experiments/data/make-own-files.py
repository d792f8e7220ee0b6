#!/usr/bin/env python3
"""Writes the tiny SYNTHETIC files that experiments/own-files-*.json run on (made up, seeded; no real shop's data).

    python3 experiments/data/make-own-files.py

shop-ratings-train.csv / shop-ratings-test.csv: star ratings of 80 shoppers on 40 products (comma-separated, with a
header; the test file holds each shopper's two latest ratings). shop-clicks.tsv: 400 search impressions with price,
category, title and whether the shopper clicked (tab-separated, UTF-8 titles with accents and quoted fields).
shop-products.csv / shop-judgements.csv: a catalogue of 160 products (id, title, description, category, brand, colour,
sales) and graded judgements (0-3) of 120 queries (semicolon-separated, with a header), for task 'search'.
"""
import csv
import math
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(2024)

users, items, rank = 80, 40, 2
user_factors = [[rng.gauss(0, 1) for _ in range(rank)] for _ in range(users)]
item_factors = [[rng.gauss(0, 1) for _ in range(rank)] for _ in range(items)]
item_bias = [rng.gauss(0, 0.8) for _ in range(items)]


def stars(u, i):
    score = 3.4 + item_bias[i] + 0.8 * sum(a * b for a, b in zip(user_factors[u], item_factors[i])) + rng.gauss(0, 0.3)
    return min(5, max(1, round(score)))


train, test = [], []
for u in range(users):
    rated = rng.sample(range(items), 16)
    rows = [(f"shopper-{u:02d}", f"SKU-{i:03d}", stars(u, i), 1_700_000_000 + 86_400 * day) for day, i in enumerate(rated)]
    train += rows[:-2]
    test += rows[-2:]

for name, rows in [("shop-ratings-train.csv", train), ("shop-ratings-test.csv", test)]:
    with open(os.path.join(here, name), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["customer_id", "sku", "stars", "rated_at"])
        writer.writerows(rows)

categories = ["kitchen", "garden", "lighting", "bath"]
nouns = {"kitchen": ["Crème brûlée dish", "Espresso cup, set of 4", "Chef's knife 20 cm"],
         "garden": ["Pflanzkübel, terracotta", "Hose reel 30 m", "Bird feeder \"Café\""],
         "lighting": ["Lampe de chevet", "LED strip 5 m, warm white", "Pendant light Ø 40 cm"],
         "bath": ["Towel set, 6 pieces", "Bath mat 60 × 90", "Soap dish, ceramic"]}
with open(os.path.join(here, "shop-clicks.tsv"), "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f, delimiter="\t", lineterminator="\n")
    writer.writerow(["impression", "shopper", "category", "price", "position", "title", "clicked"])
    for k in range(400):
        category = rng.choice(categories)
        title = rng.choice(nouns[category])
        price = round(rng.uniform(5, 120), 2)
        position = rng.randint(1, 10)
        logit = 0.8 - 0.25 * position - 0.012 * price + (0.7 if category == "lighting" else 0)
        clicked = int(rng.random() < 1 / (1 + math.exp(-logit)))
        writer.writerow([k, f"shopper-{rng.randrange(users):02d}", category, price, position, title, clicked])

# Search: products named from words of their category, brand and colour; a query asks for a category, a noun, and
# sometimes a brand or colour. Grade 3: the noun, brand and colour asked for all match; 2: the noun matches; 1: only
# the category does; a few unrelated products are judged 0. Queries are phrased with synonyms now and then, so exact
# words alone do not find every relevant product.
search = random.Random(7)
kinds = {"kitchen": ["knife", "pan", "kettle", "mug"], "garden": ["hose", "planter", "shears", "lantern"],
         "lighting": ["lamp", "bulb", "pendant", "strip"], "bath": ["towel", "mat", "mirror", "rack"]}
synonyms = {"knife": "blade", "pan": "skillet", "mug": "cup", "planter": "pot", "shears": "pruner", "lamp": "light",
            "towel": "bath sheet", "rack": "shelf"}
brands = ["Nordlys", "Brava", "Kettering", "Soleil"]
colours = ["black", "white", "oak", "copper"]
products = []
for k in range(160):
    category = search.choice(list(kinds))
    noun, brand, colour = search.choice(kinds[category]), search.choice(brands), search.choice(colours)
    products.append((f"P{k:04d}", f"{brand} {noun} {colour}", f"A {colour} {noun} for the {category} by {brand}.", category, brand, colour,
                     search.randint(0, 500)))
with open(os.path.join(here, "shop-products.csv"), "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f, delimiter=";", lineterminator="\n")
    writer.writerow(["product_id", "name", "blurb", "department", "brand", "colour", "sales"])
    writer.writerows(products)
with open(os.path.join(here, "shop-judgements.csv"), "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f, delimiter=";", lineterminator="\n")
    writer.writerow(["query", "product_id", "grade", "department"])
    asked = set()
    while len(asked) < 120:
        category = search.choice(list(kinds))
        noun = search.choice(kinds[category])
        brand = search.choice(brands) if search.random() < 0.5 else None
        colour = search.choice(colours) if search.random() < 0.5 else None
        word = synonyms[noun] if noun in synonyms and search.random() < 0.3 else noun
        text = " ".join(w for w in [brand, colour, word] if w)
        if text in asked:
            continue
        asked.add(text)
        for pid, _, _, cat, b, c, _ in products:
            n = products[int(pid[1:])][1].split()[1]
            grade = 3 if n == noun and brand in (None, b) and colour in (None, c) else 2 if n == noun else 1 if cat == category else 0
            if grade > 0 or search.random() < 0.05:
                writer.writerow([text, pid, grade, category])
