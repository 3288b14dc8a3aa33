"""Reference data for the synthetic thelook generator (see shared THELOOK.md).

Everything here is a fact of the real dataset (distributions, enums, counts) or a small
pool of plausible values (names, brands, cities) that the generator samples from.
"""

from __future__ import annotations

DISTRIBUTION_CENTERS: list[tuple[int, str, float, float]] = [
    (1, "Memphis TN", 35.1174, -89.9711),
    (2, "Chicago IL", 41.8369, -87.6847),
    (3, "Houston TX", 29.7604, -95.3698),
    (4, "Los Angeles CA", 34.05, -118.25),
    (5, "New Orleans LA", 29.95, -90.0667),
    (6, "Port Authority of New York/New Jersey NY/NJ", 40.634, -73.7834),
    (7, "Philadelphia PA", 39.95, -75.1667),
    (8, "Mobile AL", 30.6944, -88.0431),
    (9, "Charleston SC", 32.7833, -79.9333),
    (10, "Savannah GA", 32.0167, -81.1167),
]

# (department, category, product count at scale 1.0, mean retail price USD)
CATEGORIES: list[tuple[str, str, int, float]] = [
    ("Men", "Jeans", 1117, 95.0),
    ("Men", "Underwear", 1088, 27.0),
    ("Men", "Tops & Tees", 1084, 36.0),
    ("Men", "Pants", 1041, 58.0),
    ("Men", "Sweaters", 999, 78.0),
    ("Men", "Fashion Hoodies & Sweatshirts", 971, 55.0),
    ("Men", "Sleep & Lounge", 941, 50.0),
    ("Men", "Shorts", 939, 42.0),
    ("Men", "Swim", 906, 50.0),
    ("Men", "Socks", 905, 20.0),
    ("Men", "Outerwear & Coats", 828, 149.0),
    ("Men", "Accessories", 820, 43.0),
    ("Men", "Active", 753, 45.0),
    ("Men", "Suits & Sport Coats", 739, 120.0),
    ("Women", "Intimates", 2363, 27.0),
    ("Women", "Dresses", 955, 80.0),
    ("Women", "Maternity", 898, 50.0),
    ("Women", "Fashion Hoodies & Sweatshirts", 895, 55.0),
    ("Women", "Swim", 892, 70.0),
    ("Women", "Jeans", 882, 90.0),
    ("Women", "Sleep & Lounge", 830, 42.0),
    ("Women", "Shorts", 826, 40.0),
    ("Women", "Tops & Tees", 784, 38.0),
    ("Women", "Plus", 758, 45.0),
    ("Women", "Accessories", 739, 45.0),
    ("Women", "Sweaters", 738, 90.0),
    ("Women", "Active", 679, 45.0),
    ("Women", "Socks & Hosiery", 666, 17.0),
    ("Women", "Pants & Capris", 613, 55.0),
    ("Women", "Outerwear & Coats", 592, 130.0),
    ("Women", "Leggings", 564, 30.0),
    ("Women", "Blazers & Jackets", 561, 100.0),
    ("Women", "Skirts", 367, 50.0),
    ("Women", "Suits", 188, 95.0),
    ("Women", "Jumpsuits & Rompers", 162, 60.0),
    ("Women", "Clothing Sets", 37, 70.0),
]

BRANDS: list[str] = (
    "Calvin Klein|Carhartt|Levi's|Hanes|Allegra K|Quiksilver|Columbia|Tommy Hilfiger|"
    "Ralph Lauren|Nike|Adidas|Under Armour|Puma|Champion|Fruit of the Loom|Jockey|"
    "Wrangler|Lee|Dockers|Haggar|Van Heusen|IZOD|Nautica|Perry Ellis|Dickies|"
    "The North Face|Patagonia|Volcom|Billabong|Hurley|O'Neill|Speedo|Roxy|Jantzen|"
    "Maidenform|Wacoal|Vanity Fair|Bali|Playtex|Warner's|Hue|Steve Madden|Anne Klein|"
    "Jones New York|Nine West|Kenneth Cole|Guess|Lucky Brand|Diesel|True Religion|"
    "7 For All Mankind|Joe's Jeans|Hudson|Paige|Motherhood Maternity|Seven7|Jessica Simpson|"
    "Michael Kors|Vince Camuto|BCBGMAXAZRIA|Free People|Splendid|Alternative|American Apparel|"
    "Gildan|Russell Athletic|Reebok|ASICS|New Balance|Smartwool|Thorlo|Gold Toe|Pendleton|"
    "Woolrich|Timberland|Eddie Bauer|LRG|Rocawear|Ecko Unltd.|Southpole|Hot Topic|Dreamgirl"
).split("|")

MALE_FIRST: list[str] = (
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel "
    "Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy "
    "Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin "
    "Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry "
    "Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Ethan Walter Noah Jeremy "
    "Christian Keith Roger Terry Gerald Harold Sean Austin Carl Arthur Lawrence Dylan Jesse "
    "Jordan Bryan Billy Joe Bruce Gabriel Logan Albert Willie Alan Juan Wayne Elijah Randy Roy "
    "Vincent Ralph Eugene Russell Bobby Mason Philip Louis Wei Jun Hiroshi Min-jun Lucas Mateo "
    "Luca Pierre Hans Pablo Oliver Liam Felix Tomasz Bruno Diego Kenji Hao"
).split()

FEMALE_FIRST: list[str] = (
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria "
    "Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan "
    "Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison "
    "Frances Kathryn Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn "
    "Danielle Beverly Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori "
    "Mei Yuki Ji-woo Camila Chloe Ines Greta Lucia Amelia Zofia Beatriz Valentina Sakura Xiu"
).split()

LAST_NAMES: list[str] = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook "
    "Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward "
    "Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez "
    "Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera "
    "Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison "
    "Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason "
    "Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan "
    "Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos "
    "Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews "
    "Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis "
    "Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene "
    "Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin "
    "Dominguez Carr Lawson Jacobs Obrien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey "
    "Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le McCoy Garrett Burton "
    "Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks Padilla Day Walsh "
    "Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez Newman Pearson "
    "Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila Wade Molina "
    "Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Ayala "
    "Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton Schwartz "
    "Norris Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker Holt "
    "Deleon Barker Terry Hale Leon Hail Benson Haynes Horton Miles Lyons Pham Graves Bush "
    "Thornton Wolfe Warner Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy "
    "Love Robles Cervantes Solis Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel "
    "Simon Velasquez Hardy Higgins Aguirre Lin Cummings Chandler Sharp Barber Bowen Ochoa "
    "Dennis Robbins Liu Ramsey Francis Griffith Paul Blair Oconnor Cardenas Pacheco Cross "
    "Calderon Quinn Moss Swanson Chan Rivas Khan Rodgers Serrano Fitzgerald Rosales Stevenson "
    "Christensen Manning Gill Curry McLaughlin Harmon McGee Gross Doyle Garner Newton Burgess"
).split()

# (country, weight, [(city, state, latitude, longitude, postal prefix, postal digits, postal fmt)])
# postal fmt: "{p}{d}" joins prefix and random digits; "{p}-{d}" for Brazil/Japan/Poland style.
COUNTRIES: list[tuple[str, float, list[tuple[str, str, float, float, str, int, str]]]] = [
    ("China", 0.340, [
        ("Shanghai", "Shanghai", 31.2304, 121.4737, "200", 3, "{p}{d}"),
        ("Beijing", "Beijing", 39.9042, 116.4074, "100", 3, "{p}{d}"),
        ("Guangzhou", "Guangdong", 23.1291, 113.2644, "510", 3, "{p}{d}"),
        ("Shenzhen", "Guangdong", 22.5431, 114.0579, "518", 3, "{p}{d}"),
        ("Chengdu", "Sichuan", 30.5728, 104.0668, "610", 3, "{p}{d}"),
        ("Hangzhou", "Zhejiang", 30.2741, 120.1551, "310", 3, "{p}{d}"),
    ]),
    ("United States", 0.225, [
        ("New York", "New York", 40.7128, -74.006, "100", 2, "{p}{d}"),
        ("Los Angeles", "California", 34.0522, -118.2437, "900", 2, "{p}{d}"),
        ("Chicago", "Illinois", 41.8781, -87.6298, "606", 2, "{p}{d}"),
        ("Houston", "Texas", 29.7604, -95.3698, "770", 2, "{p}{d}"),
        ("Phoenix", "Arizona", 33.4484, -112.074, "850", 2, "{p}{d}"),
        ("Seattle", "Washington", 47.6062, -122.3321, "981", 2, "{p}{d}"),
        ("Miami", "Florida", 25.7617, -80.1918, "331", 2, "{p}{d}"),
        ("Atlanta", "Georgia", 33.749, -84.388, "303", 2, "{p}{d}"),
        ("Boston", "Massachusetts", 42.3601, -71.0589, "021", 2, "{p}{d}"),
        ("Denver", "Colorado", 39.7392, -104.9903, "802", 2, "{p}{d}"),
    ]),
    ("Brasil", 0.146, [
        ("São Paulo", "São Paulo", -23.5505, -46.6333, "01", 3, "{p}{d}-000"),
        ("Rio de Janeiro", "Rio de Janeiro", -22.9068, -43.1729, "20", 3, "{p}{d}-000"),
        ("Belo Horizonte", "Minas Gerais", -19.9167, -43.9345, "30", 3, "{p}{d}-000"),
        ("Salvador", "Bahia", -12.9777, -38.5016, "40", 3, "{p}{d}-000"),
    ]),
    ("South Korea", 0.053, [
        ("Seoul", "Seoul", 37.5665, 126.978, "0", 4, "{p}{d}"),
        ("Busan", "Busan", 35.1796, 129.0756, "4", 4, "{p}{d}"),
    ]),
    ("France", 0.047, [
        ("Paris", "Île-de-France", 48.8566, 2.3522, "750", 2, "{p}{d}"),
        ("Lyon", "Auvergne-Rhône-Alpes", 45.764, 4.8357, "690", 2, "{p}{d}"),
        ("Marseille", "Provence-Alpes-Côte d'Azur", 43.2965, 5.3698, "130", 2, "{p}{d}"),
    ]),
    ("United Kingdom", 0.046, [
        ("London", "England", 51.5074, -0.1278, "SW1A ", 1, "{p}{d}AA"),
        ("Manchester", "England", 53.4808, -2.2426, "M1 ", 1, "{p}{d}AE"),
        ("Edinburgh", "Scotland", 55.9533, -3.1883, "EH1 ", 1, "{p}{d}YZ"),
    ]),
    ("Germany", 0.042, [
        ("Berlin", "Berlin", 52.52, 13.405, "10", 3, "{p}{d}"),
        ("München", "Bayern", 48.1351, 11.582, "80", 3, "{p}{d}"),
        ("Hamburg", "Hamburg", 53.5511, 9.9937, "20", 3, "{p}{d}"),
    ]),
    ("Spain", 0.040, [
        ("Madrid", "Madrid", 40.4168, -3.7038, "280", 2, "{p}{d}"),
        ("Barcelona", "Cataluña", 41.3851, 2.1734, "080", 2, "{p}{d}"),
    ]),
    ("Japan", 0.024, [
        ("Tokyo", "Tokyo", 35.6762, 139.6503, "1", 2, "{p}{d}-0001"),
        ("Osaka", "Osaka", 34.6937, 135.5023, "5", 2, "{p}{d}-0002"),
    ]),
    ("Australia", 0.022, [
        ("Sydney", "New South Wales", -33.8688, 151.2093, "20", 2, "{p}{d}"),
        ("Melbourne", "Victoria", -37.8136, 144.9631, "30", 2, "{p}{d}"),
    ]),
    ("Belgium", 0.012, [("Brussels", "Brussels", 50.8503, 4.3517, "10", 2, "{p}{d}")]),
    ("Poland", 0.002, [("Warsaw", "Mazowieckie", 52.2297, 21.0122, "00", 1, "{p}{d}-950")]),
    ("España", 0.0003, [("Valencia", "Comunidad Valenciana", 39.4699, -0.3763, "460", 2, "{p}{d}")]),
    ("Deutschland", 0.0003, [("Köln", "Nordrhein-Westfalen", 50.9375, 6.9603, "50", 3, "{p}{d}")]),
    ("Colombia", 0.0002, [("Bogotá", "Bogotá", 4.711, -74.0721, "110", 3, "{p}{d}")]),
    ("Austria", 0.0002, [("Wien", "Wien", 48.2082, 16.3738, "10", 2, "{p}{d}")]),
]

STREET_NAMES: list[str] = (
    "Main|Oak|Pine|Maple|Cedar|Elm|Washington|Lake|Hill|Park|Lee|Sunset|River|Church|Spring|"
    "Highland|Jackson|Lincoln|Madison|Franklin|Walnut|Chestnut|Willow|Meadow|Forest|Ridge|"
    "Valley|Mill|Union|Center|Broad|Market|King|Queen|Bay|Harbor|Cherry|Dogwood|Adams|Grant"
).split("|")
STREET_SUFFIXES: list[str] = (
    "Street|St|Avenue|Ave.|Road|Rd|Boulevard|Lane|Drive|Court|Place|Way|Parkway|Terrace|Circle"
).split("|")
DIRECTIONALS: list[str] = ["North", "South", "East", "West", "N.", "S", "NW", "Southeast"]
UNITS: list[str] = ["Apt 4B", "Apartment 12", "Suite 200", "Unit 7", "# 3", "Ste 110", "Apt. 21"]

# users.traffic_source and events.traffic_source are different value sets.
USER_TRAFFIC_SOURCES: dict[str, float] = {
    "Search": 0.70, "Organic": 0.15, "Facebook": 0.06, "Email": 0.05, "Display": 0.04}
EVENT_TRAFFIC_SOURCES: dict[str, float] = {
    "Email": 0.45, "Adwords": 0.30, "YouTube": 0.10, "Facebook": 0.10, "Organic": 0.05}
BROWSERS: dict[str, float] = {
    "Chrome": 0.50, "Safari": 0.20, "Firefox": 0.20, "IE": 0.05, "Other": 0.05}
ORDER_STATUSES: dict[str, float] = {
    "Shipped": 0.30, "Complete": 0.25, "Processing": 0.20, "Cancelled": 0.15, "Returned": 0.10}
NUM_OF_ITEM_WEIGHTS: dict[int, float] = {1: 0.70, 2: 0.20, 3: 0.05, 4: 0.05}
UNSOLD_UNITS_WEIGHTS: dict[int, float] = {1: 0.5, 2: 0.3, 3: 0.2}
EVENT_TYPES: tuple[str, ...] = ("home", "department", "product", "cart", "purchase", "cancel")
# Anonymous session shapes, drawn uniformly.
ANONYMOUS_SESSION_SHAPES: list[list[str]] = [
    ["product", "cart", "cancel"],
    ["department", "product", "cart"],
    ["product"],
    ["department", "product"],
]
ANONYMOUS_SESSIONS_PER_USER = 5
EMAIL_DOMAINS: list[str] = ["example.com", "example.net", "example.org"]

# Sizes at scale 1.0 (distribution_centers and products are fixed catalogues).
USERS_AT_SCALE_1 = 100_000
ORDERING_USER_SHARE = 0.80
ORDERS_PER_USER = 1.25
ORDERS_AT_SCALE_1 = round(USERS_AT_SCALE_1 * ORDERS_PER_USER)  # ~125,000
