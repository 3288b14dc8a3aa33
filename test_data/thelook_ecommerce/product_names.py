"""Product names that read like the real thelook catalog.

Real names are a brand, often the department, then the garment's own words: fits, materials,
styles, model numbers ("Levi's Men's 505 Regular Fit Jean", "Calvin Klein Women's Cotton
Bikini Panty", "Carhartt Men's Duck Active Jacket J131"). They seldom repeat the category's
name, so a search that only matches category words finds little. Each category here has a
vocabulary of garment types and details; :func:`product_names` samples it, vectorised.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# (department, category) -> (garment types, details: fits, materials, styles)
VOCABULARY: dict[tuple[str, str], tuple[str, str]] = {
    ("Men", "Jeans"): (
        "Jean|Denim Jean|Bootcut Jean|Straight Leg Jean|Skinny Jean|Carpenter Jean|"
        "Five-Pocket Jean|Selvedge Jean|Tapered Jean|Loose Fit Jean|Slim Straight Jean",
        "Regular Fit|Stonewashed|Dark Wash|Rinse Wash|Distressed|Raw Denim|Light Indigo|"
        "Vintage Wash|Stretch Denim|Original Fit|Relaxed Fit|Authentic"),
    ("Men", "Underwear"): (
        "Boxer Brief|Trunk|Brief|Knit Boxer|Undershirt|Low Rise Trunk|Bikini Brief|"
        "Long Leg Boxer Brief|Woven Boxer|Athletic Supporter",
        "Cotton Stretch|Microfiber|3-Pack|Modal|Tagless|Mesh|Pima Cotton|Bamboo|"
        "Classic|Contour Pouch|Low Rise"),
    ("Men", "Tops & Tees"): (
        "Crew Neck T-Shirt|V-Neck Tee|Henley|Polo Shirt|Graphic Tee|Pocket Tee|"
        "Long Sleeve Shirt|Tank Top|Raglan Tee|Button-Down Shirt|Oxford Shirt",
        "Short Sleeve|Heathered|Jersey|Slub Cotton|Pique|Slim Fit|Striped|Garment Dyed|"
        "Ringspun|Vintage Print|Plaid"),
    ("Men", "Pants"): (
        "Chino|Trouser|Cargo Pant|Khaki|Dress Pant|Flat Front Pant|Pleated Trouser|"
        "Work Pant|Corduroy Pant|Double Knee Pant",
        "Twill|Wrinkle-Free|Classic Fit|Stretch|Ripstop|Straight Fit|Wool Blend|Relaxed|"
        "Canvas|Tailored|Iron-Free"),
    ("Men", "Sweaters"): (
        "Crewneck Pullover|Cardigan|V-Neck Pullover|Quarter-Zip|Turtleneck|Jumper|"
        "Shawl Collar Cardigan|Mock Neck|Fisherman Pullover|Half-Zip Pullover",
        "Merino Wool|Cashmere|Lambswool|Cable Knit|Ribbed|Cotton Knit|Fine Gauge|"
        "Chunky Knit|Donegal|Heathered|Argyle"),
    ("Men", "Fashion Hoodies & Sweatshirts"): (
        "Pullover Hoodie|Zip-Up Hoody|Crew Fleece|Fleece Pullover|Full-Zip Fleece|"
        "Kangaroo Pocket Pullover|Hooded Sweatshirt|Raglan Crew|Sherpa-Lined Hoody|"
        "Thermal Hoodie",
        "Fleece|French Terry|Graphic|Brushed Back|Heavyweight|Vintage|Tie-Dye|"
        "Embroidered Logo|Oversized|Washed|Camo"),
    ("Men", "Sleep & Lounge"): (
        "Pajama Set|PJ Pant|Robe|Bathrobe|Sleep Shirt|Nightshirt|Pajama Bottom|"
        "Union Suit|Waffle Knit Henley|Thermal Top|Sleep Jogger",
        "Flannel|Plaid|Knit|Waffle|Terry Cloth|Plush|Microfleece|Brushed Cotton|Cozy|"
        "Satin|Shawl Collar"),
    ("Men", "Shorts"): (
        "Cargo Short|Chino Short|Walkshort|Bermuda|Athletic Short|Denim Cutoff|"
        "Flat Front Short|Hybrid Short|Drawstring Short|Ripstop Short",
        "9-Inch|Twill|Classic Fit|Stretch|Relaxed Fit|Belted|Washed|Lightweight|"
        "Canvas|Linen Blend"),
    ("Men", "Swim"): (
        "Swim Trunk|Board Short|Boardshort|Square-Leg Swimsuit|Jammer|Rash Guard|"
        "Volley Trunk|Brief Swimsuit|Watershort|Surf Trunk|Beach Short",
        "Quick-Dry|Hawaiian Print|Striped|E-Board|Tropical|Beach|Chlorine-Resistant|"
        "Surf|Hibiscus|Palm Print|Mesh-Lined"),
    ("Men", "Socks"): (
        "Crew Sock|Ankle Sock|Dress Sock|Boot Sock|No-Show Sock|Athletic Sock|"
        "Hiking Sock|Over-the-Calf Sock|Quarter Sock|Liner",
        "Cushioned|Merino|6-Pack|Argyle|Moisture-Wicking|Cotton Blend|Ribbed|Wool|"
        "Compression|Low Cut"),
    ("Men", "Outerwear & Coats"): (
        "Down Jacket|Parka|Peacoat|Puffer Jacket|Bomber Jacket|Rain Jacket|Trench|"
        "Topcoat|Duck Active Jacket|Windbreaker|Field Jacket|Anorak|Shell",
        "Insulated|Waterproof|Quilted|Wool Blend|Hooded|Sherpa-Lined|Windproof|Packable|"
        "Thermal|Canvas|Fleece-Lined"),
    ("Men", "Accessories"): (
        "Leather Belt|Baseball Cap|Beanie|Wallet|Sunglasses|Necktie|Scarf|Gloves|"
        "Bow Tie|Suspenders|Fedora|Bandana|Watch",
        "Genuine Leather|Knit|Silk|Wool|Polarized|Reversible|Trucker|Bifold|Plaid|Classic"),
    ("Men", "Active"): (
        "Training Short|Running Tight|Performance Tee|Compression Shirt|Track Jacket|"
        "Gym Tank|Workout Pant|Base Layer|Running Jacket|Training Jersey",
        "Dri-Fit|Moisture-Wicking|HeatGear|ClimaLite|Breathable|Mesh|Reflective|"
        "Quick-Dry|Seamless|4-Way Stretch"),
    ("Men", "Suits & Sport Coats"): (
        "Two-Button Suit|Sport Coat|Blazer|Suit Jacket|Tuxedo|Three-Piece Suit|"
        "Suit Separate Jacket|Dinner Jacket|Waistcoat|Suit Separate Pant",
        "Slim Fit|Wool|Pinstripe|Herringbone|Tweed|Classic Fit|Notch Lapel|Sharkskin|"
        "Windowpane|Performance"),
    ("Women", "Intimates"): (
        "Bra|Underwire Bra|Bikini Panty|Hipster Panty|Thong|Bralette|Push-Up Bra|"
        "Shapewear Brief|Boyshort|Chemise|Slip|Brief Panty",
        "Cotton|Lace|Seamless|Microfiber|Satin|Mesh|Wireless|Padded|Full Coverage|"
        "Balconette|Smoothing"),
    ("Women", "Dresses"): (
        "Maxi Dress|Sheath Dress|Wrap Dress|Cocktail Dress|Shift Dress|Sundress|"
        "Midi Dress|Shirtdress|Gown|Bodycon Dress|Fit and Flare Dress|Slip Dress",
        "Sleeveless|Floral|Chiffon|Jersey|Lace|Off-the-Shoulder|Ruched|Halter|Belted|"
        "Pleated|Sequin"),
    ("Women", "Maternity"): (
        "Nursing Top|Over-the-Belly Jean|Pregnancy Dress|Bump Legging|Nursing Bra|"
        "Belly Band|Nursing Tank|Full Panel Pant|Secret Fit Belly Skinny Jean|"
        "Side-Ruched Top",
        "Nursing|Full Panel|Side Panel|Postpartum|Stretch|Ruched|Empire Waist|Jersey|"
        "Soft|Over the Bump"),
    ("Women", "Fashion Hoodies & Sweatshirts"): (
        "Cropped Hoodie|Zip Hoody|Fleece Pullover|Cowl Neck Sweatshirt|"
        "Off-Shoulder Pullover|Tunic Hoodie|Crew Fleece|Full-Zip Fleece|Hooded Pullover|"
        "Boyfriend Crew",
        "Fleece|French Terry|Graphic|Brushed|Oversized|Tie-Dye|Embroidered|Sherpa|"
        "Vintage Wash|Slouchy"),
    ("Women", "Swim"): (
        "Bikini Top|Bikini Bottom|One-Piece Swimsuit|Tankini|Monokini|Swim Skirt|"
        "Halter Bikini|Cover-Up|Rash Guard|Swimdress|Bandeau Top",
        "Triangle|Underwire|Tropical|Ruched|Push-Up|High-Waist|Floral|Striped|"
        "Tummy Control|Strappy|Crochet"),
    ("Women", "Jeans"): (
        "Skinny Jean|Bootcut Jean|Boyfriend Jean|Flare Jean|Jegging|Straight Leg Jean|"
        "Mom Jean|High-Rise Jean|Cropped Jean|Wide Leg Jean",
        "Dark Wash|Stretch Denim|Distressed|Curvy Fit|Light Indigo|Vintage Wash|"
        "Mid-Rise|Stonewashed|Raw Hem|Classic Rinse"),
    ("Women", "Sleep & Lounge"): (
        "Nightgown|Pajama Set|Chemise Nightie|Robe|Sleep Shirt|Kimono Robe|Sleep Short|"
        "Nightie|Jogger PJ|Pajama Pant|Sleep Tank",
        "Satin|Flannel|Modal|Plush|Waffle Knit|Cotton Jersey|Lace Trim|Fleece|Cozy|"
        "Printed|Silky"),
    ("Women", "Shorts"): (
        "Denim Short|Bermuda|Cutoff|Bike Short|Chino Short|Linen Short|Paperbag Short|"
        "Running Short|Skort|Utility Short",
        "High-Rise|Frayed|Twill|Roll-Cuff|Stretch|Drawstring|Pleated|Lightweight|"
        "Mid-Thigh|Belted"),
    ("Women", "Tops & Tees"): (
        "Blouse|Tunic|Tank Top|Peasant Top|Scoop Neck Tee|Boat Neck Top|Crop Top|"
        "Wrap Top|Button-Down Shirt|Ruffle Top|V-Neck Tee",
        "Short Sleeve|Sleeveless|Chiffon|Jersey|Striped|Floral|Pleated|Lace Trim|"
        "Cold Shoulder|Embroidered|Ribbed"),
    ("Women", "Plus"): (
        "Plus Size Tunic|Plus Size Wrap Dress|Plus Size Cardigan|Plus Size Legging|"
        "Plus Size Blouse|Plus Size Bootcut Jean|Plus Size Tank|Curvy Fit Pant|"
        "Plus Size Maxi Skirt|Plus Size Top",
        "Stretch|Jersey|Floral|Empire Waist|Ruched|Sleeveless|Knit|Printed|"
        "Tummy Control|Relaxed"),
    ("Women", "Accessories"): (
        "Handbag|Tote|Scarf|Sunglasses|Clutch|Hair Clip|Belt|Crossbody Bag|Earrings|"
        "Wide Brim Hat|Headband|Wallet|Necklace",
        "Leather|Faux Leather|Silk|Woven|Beaded|Oversized|Polarized|Knit|Straw|"
        "Metallic|Quilted"),
    ("Women", "Sweaters"): (
        "Cardigan|Pullover|Turtleneck|Cowl Neck|Shrug|Poncho|Duster Cardigan|"
        "Tunic Pullover|Cropped Cardigan|Boyfriend Cardigan",
        "Cashmere|Cable Knit|Merino|Mohair|Ribbed|Open Knit|Chunky|Angora Blend|"
        "Fine Gauge|Marled"),
    ("Women", "Active"): (
        "Yoga Pant|Running Tight|Workout Tank|Capri Tight|Track Jacket|"
        "Performance Tee|Racerback Tank|Running Skort|Training Jacket|Studio Pant",
        "Moisture-Wicking|Dri-Fit|Breathable|Mesh|Reflective|Quick-Dry|Seamless|"
        "4-Way Stretch|High-Rise|Compression"),
    ("Women", "Socks & Hosiery"): (
        "Tights|Pantyhose|Knee High|Thigh High|No-Show Sock|Crew Sock|Trouser Sock|"
        "Fishnet|Footie|Ankle Sock|Control Top Pantyhose",
        "Sheer|Opaque|3-Pack|Cushioned|Lace Top|Microfiber|Ribbed|Silky|Wool Blend|"
        "Run-Resistant"),
    ("Women", "Pants & Capris"): (
        "Capri|Crop Pant|Trouser|Palazzo Pant|Wide Leg Pant|Ankle Pant|Cargo Pant|"
        "Chino|Culotte|Cigarette Pant",
        "Twill|Linen|Stretch|Pull-On|Slim Leg|Pleated|Crepe|Tailored|Drawstring|"
        "Wrinkle-Free"),
    ("Women", "Outerwear & Coats"): (
        "Trench|Puffer Jacket|Parka|Peacoat|Wrap Coat|Down Vest|Anorak|Rain Jacket|"
        "Faux Fur Coat|Quilted Jacket|Cape",
        "Insulated|Waterproof|Wool Blend|Hooded|Belted|Double-Breasted|Packable|"
        "Sherpa-Lined|Water-Resistant|Faux Shearling"),
    ("Women", "Leggings"): (
        "Legging|Ankle Legging|Capri Legging|Footless Tight|Ponte Legging|Treggings|"
        "Stirrup Legging|Faux Leather Legging|Yoga Legging",
        "Stretch|Seamless|Cotton Spandex|Fleece-Lined|High-Waist|Printed|Ribbed|"
        "Matte|Shaping|Cropped"),
    ("Women", "Blazers & Jackets"): (
        "Blazer|Boyfriend Blazer|Moto Jacket|Denim Jacket|Cropped Jacket|Bomber|"
        "Utility Jacket|Tuxedo Jacket|Faux Leather Jacket|Tweed Jacket",
        "One-Button|Open Front|Tailored|Linen|Ponte|Fitted|Quilted|Boucle|Stretch|"
        "Notch Collar"),
    ("Women", "Skirts"): (
        "Pencil Skirt|Maxi Skirt|A-Line Skirt|Mini|Pleated Midi|Tulle Skirt|Wrap Skirt|"
        "Denim Mini|Circle Skirt|Tiered Maxi",
        "Flared|High-Waist|Floral|Pleated|Stretch|Faux Leather|Lace|Button-Front|"
        "Flowy|Ponte"),
    ("Women", "Suits"): (
        "Pant Suit|Skirt Suit|Two-Piece Suit|Suit Jacket|Suit Separate Pant|"
        "Tuxedo Suit|Dress Suit|Jacket and Skirt Set",
        "Tailored|Pinstripe|Crepe|Stretch|Tweed|Slim Fit|Double-Breasted|Wool Blend|"
        "Notch Lapel"),
    ("Women", "Jumpsuits & Rompers"): (
        "Jumpsuit|Romper|Playsuit|Overall|Wide Leg Jumpsuit|Strapless Romper|"
        "Utility Jumpsuit|Catsuit|Dungarees",
        "Sleeveless|Halter|Floral|Belted|Linen|Denim|Wrap|Smocked|Ruffle|Off-the-Shoulder"),
    ("Women", "Clothing Sets"): (
        "Two-Piece Set|Crop Top and Skirt Set|Tracksuit|Co-ord Set|Matching Set|"
        "Twinset|Tank and Short Set",
        "Knit|Ribbed|Floral|Velour|Lounge|Linen|Printed|Satin"),
}

# Model numbers: a letter code or none, then digits ("J131", "505", "Style 4021").
MODEL_PREFIXES: list[str] = ["", "", "", "J", "K", "M", "S", "T", "Style "]


def _pooled(lists: list[list[str]], cat_idx: np.ndarray, u: np.ndarray) -> pa.Array:
    """For each row, element ``floor(u * len)`` of its category's list (no Python loop)."""
    lengths = np.array([len(x) for x in lists])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    flat = pa.array([w for x in lists for w in x], pa.string())
    pick = offsets[cat_idx] + np.minimum((u * lengths[cat_idx]).astype(np.int64),
                                         lengths[cat_idx] - 1)
    return flat.take(pa.array(pick, pa.int64()))


def product_names(rng: np.random.Generator, categories: list[tuple[str, str]],
                  cat_idx: np.ndarray, brand: pa.Array) -> pa.Array:
    """Names for products of ``categories[cat_idx]`` (department, category) and ``brand``.

    Shapes, as in the real catalog: "Brand Men's Detail Garment", "Brand Women's Detail
    Detail Garment", "Brand Men's 505 Detail Garment", "Brand Detail Garment J131".
    """
    n = len(cat_idx)
    vocab = [VOCABULARY[c] for c in categories]
    garments = [g.split("|") for g, _ in vocab]
    details = [d.split("|") for _, d in vocab]
    u = rng.random((5, n))
    garment = _pooled(garments, cat_idx, u[0])
    detail = _pooled(details, cat_idx, u[1])
    detail2 = _pooled(details, cat_idx, u[2])
    depts = pa.array([d for d, _ in categories], pa.string()).take(
        pa.array(cat_idx, pa.int64()))
    gender = pc.if_else(pc.equal(depts, "Men"), "Men's", "Women's")
    model = pc.binary_join_element_wise(
        pa.array(MODEL_PREFIXES, pa.string()).take(
            pa.array((u[3] * len(MODEL_PREFIXES)).astype(np.int64), pa.int64())),
        pa.array(rng.integers(100, 9999, n)).cast(pa.string()), "")
    shape = (u[4] * 10).astype(np.int64)  # 0-3 plain, 4-5 two details, 6-7 model first, 8-9 last
    empty = pa.scalar("", pa.string())
    second = pc.if_else(pa.array((shape >= 4) & (shape <= 5)), detail2, empty)
    before = pc.if_else(pa.array((shape >= 6) & (shape <= 7)), model, empty)
    after = pc.if_else(pa.array(shape >= 8), model, empty)
    # Two details must differ: a repeated one is dropped.
    second = pc.if_else(pc.equal(second, detail), empty, second)
    no_gender = pa.array(shape == 9)
    name = pc.binary_join_element_wise(
        brand, pc.if_else(no_gender, empty, gender), before, detail, second, garment, after,
        " ")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(name, " {2,}", " "))
