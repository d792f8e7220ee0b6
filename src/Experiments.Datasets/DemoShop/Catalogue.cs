namespace Experiments.Datasets.DemoShop;

/// <summary>The vocabulary the demo shop builds its product titles and queries from.</summary>
internal static class Catalogue
{
    internal sealed record Category(string Name, string[] Nouns, string[] Adjectives, double BasePrice);

    internal static readonly Category[] Categories =
    [
        new("Running Shoes", ["running shoe", "trainer", "trail runner", "racing flat"], ["lightweight", "cushioned", "breathable", "waterproof"], 90),
        new("Hiking Gear", ["hiking boot", "backpack", "trekking pole", "rain jacket"], ["waterproof", "durable", "ultralight", "insulated"], 110),
        new("Coffee", ["espresso beans", "ground coffee", "cold brew", "coffee pods"], ["dark roast", "organic", "single origin", "decaf"], 14),
        new("Kitchen", ["chef knife", "frying pan", "cutting board", "saucepan"], ["stainless", "non-stick", "cast iron", "bamboo"], 45),
        new("Headphones", ["headphones", "earbuds", "headset", "speaker"], ["wireless", "noise cancelling", "bluetooth", "studio"], 120),
        new("Phones", ["smartphone", "phone case", "charger", "screen protector"], ["unlocked", "fast charging", "rugged", "slim"], 300),
        new("Books", ["novel", "cookbook", "travel guide", "biography"], ["bestselling", "illustrated", "paperback", "hardcover"], 18),
        new("Toys", ["building set", "puzzle", "board game", "plush toy"], ["educational", "family", "wooden", "colourful"], 30),
        new("Skincare", ["face cream", "serum", "cleanser", "sunscreen"], ["hydrating", "fragrance-free", "vitamin c", "spf 50"], 25),
        new("Garden", ["garden hose", "pruning shears", "planter", "seed kit"], ["heavy duty", "expandable", "ergonomic", "self-watering"], 35),
        new("Fitness", ["yoga mat", "dumbbell set", "resistance band", "kettlebell"], ["non-slip", "adjustable", "eco", "compact"], 40),
        new("Pet Supplies", ["dog bed", "cat tree", "dog leash", "pet food"], ["orthopedic", "grain-free", "reflective", "washable"], 38),
    ];

    internal static readonly string[] Brands =
    [
        "Nordwind", "Aster", "Kallio", "Brightway", "Solace", "Veloce", "Marigold", "Tundra", "Orbis", "Pinecrest",
        "Lumen", "Harbor", "Quill", "Ember", "Cobalt", "Fable", "Junco", "Meridian", "Oakline", "Riverbend",
        "Sable", "Tessera", "Umber", "Vantage", "Willow", "Zephyr", "Alder", "Birchwood", "Corvid", "Dune",
    ];

    internal static readonly string[] Variants = ["", "", "", "2-pack", "mini", "xl", "pro", "classic", "plus", "lite"];
}
