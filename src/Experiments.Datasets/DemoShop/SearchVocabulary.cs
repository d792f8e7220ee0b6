namespace Experiments.Datasets.DemoShop;

/// <summary>
/// The words of the demo shop's search side: other names shoppers use for each product type (paraphrases that share
/// no word with the catalogue's noun, so a lexical match misses them), and the attributes products get.
/// </summary>
internal static class SearchVocabulary
{
    internal static readonly Dictionary<string, string[]> Paraphrases = new(StringComparer.Ordinal)
    {
        ["running shoe"] = ["sneakers", "joggers"], ["trainer"] = ["gym sneakers", "sport kicks"], ["trail runner"] = ["off-road sneakers", "mountain kicks"], ["racing flat"] = ["marathon sneakers", "race day kicks"],
        ["hiking boot"] = ["trekking boots", "mountain boots"], ["backpack"] = ["rucksack", "daypack"], ["trekking pole"] = ["walking stick", "hiking staff"], ["rain jacket"] = ["anorak", "rain coat"],
        ["espresso beans"] = ["whole bean java", "roasted java"], ["ground coffee"] = ["filter java", "drip grind"], ["cold brew"] = ["iced java", "chilled java"], ["coffee pods"] = ["capsules", "single serve cups"],
        ["chef knife"] = ["cooking blade", "kitchen blade"], ["frying pan"] = ["skillet", "fry pan"], ["cutting board"] = ["chopping block", "carving slab"], ["saucepan"] = ["cooking pot", "stock pot"],
        ["headphones"] = ["over-ear cans", "cans"], ["earbuds"] = ["in-ear buds", "earphones"], ["headset"] = ["gaming mic", "call set"], ["speaker"] = ["soundbar", "boombox"],
        ["smartphone"] = ["mobile", "cell"], ["phone case"] = ["mobile cover", "cell cover"], ["charger"] = ["power adapter", "charging brick"], ["screen protector"] = ["tempered glass", "display film"],
        ["novel"] = ["fiction read", "story read"], ["cookbook"] = ["recipe collection", "cooking guidebook"], ["travel guide"] = ["guidebook", "trip handbook"], ["biography"] = ["memoir", "life story"],
        ["building set"] = ["construction blocks", "brick kit"], ["puzzle"] = ["jigsaw", "brain teaser"], ["board game"] = ["tabletop game", "party game"], ["plush toy"] = ["stuffed animal", "teddy"],
        ["face cream"] = ["moisturiser", "day lotion"], ["serum"] = ["essence", "face oil"], ["cleanser"] = ["face wash", "facial soap"], ["sunscreen"] = ["sunblock", "sun lotion"],
        ["garden hose"] = ["water pipe", "hosepipe"], ["pruning shears"] = ["secateurs", "hedge clippers"], ["planter"] = ["flower pot", "plant pot"], ["seed kit"] = ["seed starter", "grow kit"],
        ["yoga mat"] = ["exercise mat", "pilates mat"], ["dumbbell set"] = ["hand weights", "free weights"], ["resistance band"] = ["exercise band", "stretch band"], ["kettlebell"] = ["swing weight", "russian weight"],
        ["dog bed"] = ["puppy cushion", "hound mattress"], ["cat tree"] = ["cat tower", "scratching post"], ["dog leash"] = ["dog lead", "puppy lead"], ["pet food"] = ["kibble", "chow"],
    };

    internal static readonly string[] Colours = ["black", "white", "red", "blue", "green", "grey", "pink", "yellow", "brown", "silver"];

    internal static readonly string[] Materials = ["cotton", "leather", "steel", "plastic", "wood", "ceramic", "wool", "nylon", "bamboo", "glass"];

    internal static readonly string[] DescriptionOpenings = ["A {0} {1} by {2}.", "The {0} {1} from {2}.", "{2}'s {0} {1}.", "Meet the {0} {1} by {2}."];

    internal static readonly string[] DescriptionMiddles = ["Made of {0} in {1}.", "Finished in {1}, built from {0}.", "Comes in {1} with {0} details.", "A {1} {0} finish."];

    internal static readonly string[] DescriptionEndings = ["Loved by shoppers looking for {0}.", "A fine pick if you need {0}.", "Great {0} for every day.", "Our customers call it the best {0}."];
}
