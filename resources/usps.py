"""USPS Publication 28 tables the default address standardizer is generated from.

Abbreviation -> the spellings that mean it (upper case, no periods; the abbreviation itself
is always accepted). Street suffixes are the common part of Pub 28 Appendix C1, secondary
unit designators Appendix C2, states and territories the two-letter codes of Appendix B.
"""

from __future__ import annotations

DIRECTIONALS: dict[str, tuple[str, ...]] = {
    "N": ("NORTH",), "S": ("SOUTH",), "E": ("EAST",), "W": ("WEST",),
    "NE": ("NORTHEAST", "NORTH EAST"), "NW": ("NORTHWEST", "NORTH WEST"),
    "SE": ("SOUTHEAST", "SOUTH EAST"), "SW": ("SOUTHWEST", "SOUTH WEST"),
}

STREET_SUFFIXES: dict[str, tuple[str, ...]] = {
    "ALY": ("ALLEY", "ALLEE", "ALLY"), "ANX": ("ANNEX", "ANEX", "ANNX"),
    "AVE": ("AVENUE", "AV", "AVEN", "AVENU", "AVN", "AVNUE"), "BCH": ("BEACH",),
    "BND": ("BEND",), "BLF": ("BLUFF",), "BLVD": ("BOULEVARD", "BOUL", "BOULV"),
    "BR": ("BRANCH", "BRNCH"), "BRG": ("BRIDGE", "BRDGE"), "BRK": ("BROOK",),
    "BYP": ("BYPASS", "BYPA", "BYPAS", "BYPS"), "CSWY": ("CAUSEWAY", "CAUSWA"),
    "CTR": ("CENTER", "CENT", "CENTR", "CENTRE", "CNTER", "CNTR"),
    "CIR": ("CIRCLE", "CIRC", "CIRCL", "CRCL", "CRCLE"), "CLF": ("CLIFF",), "CLB": ("CLUB",),
    "CMN": ("COMMON",), "COR": ("CORNER",), "CRSE": ("COURSE",), "CT": ("COURT",),
    "CTS": ("COURTS",), "CV": ("COVE",), "CRK": ("CREEK",),
    "CRES": ("CRESCENT", "CRSENT", "CRSNT"), "XING": ("CROSSING", "CRSSNG"), "DL": ("DALE",),
    "DM": ("DAM",), "DR": ("DRIVE", "DRIV", "DRV"), "EST": ("ESTATE",), "ESTS": ("ESTATES",),
    "EXPY": ("EXPRESSWAY", "EXP", "EXPR", "EXPRESS", "EXPW"),
    "EXT": ("EXTENSION", "EXTN", "EXTNSN"), "FLS": ("FALLS",), "FRY": ("FERRY", "FRRY"),
    "FLD": ("FIELD",), "FLDS": ("FIELDS",), "FLT": ("FLAT",), "FRD": ("FORD",),
    "FRST": ("FOREST", "FORESTS"), "FRK": ("FORK",), "FRKS": ("FORKS",), "FT": ("FORT", "FRT"),
    "FWY": ("FREEWAY", "FREEWY", "FRWAY", "FRWY"), "GDN": ("GARDEN", "GARDN", "GRDEN", "GRDN"),
    "GDNS": ("GARDENS", "GRDNS"), "GTWY": ("GATEWAY", "GATEWY", "GATWAY", "GTWAY"),
    "GLN": ("GLEN",), "GRN": ("GREEN",), "GRV": ("GROVE", "GROV"),
    "HBR": ("HARBOR", "HARB", "HARBR", "HRBOR"), "HVN": ("HAVEN",), "HTS": ("HEIGHTS", "HT"),
    "HWY": ("HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY"), "HL": ("HILL",), "HLS": ("HILLS",),
    "HOLW": ("HOLLOW", "HLLW", "HOLLOWS", "HOLWS"), "IS": ("ISLAND", "ISLND"),
    "JCT": ("JUNCTION", "JCTION", "JCTN", "JUNCTN", "JUNCTON"), "KNL": ("KNOLL", "KNOL"),
    "LK": ("LAKE",), "LKS": ("LAKES",), "LNDG": ("LANDING", "LNDNG"), "LN": ("LANE",),
    "LOOP": ("LOOPS",), "MALL": (), "MNR": ("MANOR",), "MDWS": ("MEADOWS", "MEDOWS"),
    "ML": ("MILL",), "MLS": ("MILLS",), "MSN": ("MISSION", "MISSN", "MSSN"),
    "MTN": ("MOUNTAIN", "MNTAIN", "MNTN", "MOUNTIN", "MTIN"), "ORCH": ("ORCHARD", "ORCHRD"),
    "OVAL": ("OVL",), "PARK": ("PRK",), "PKWY": ("PARKWAY", "PARKWY", "PKWAY", "PKY"),
    "PASS": (), "PATH": ("PATHS",), "PIKE": ("PIKES",), "PNES": ("PINES",), "PL": ("PLACE",),
    "PLN": ("PLAIN",), "PLZ": ("PLAZA", "PLZA"), "PT": ("POINT",), "PRT": ("PORT",),
    "PR": ("PRAIRIE", "PRR"), "RADL": ("RADIAL", "RAD", "RADIEL"),
    "RNCH": ("RANCH", "RANCHES", "RNCHS"), "RPDS": ("RAPIDS",), "RDG": ("RIDGE", "RDGE"),
    "RIV": ("RIVER", "RVR", "RIVR"), "RD": ("ROAD",), "RDS": ("ROADS",), "RTE": ("ROUTE",),
    "ROW": (), "RUN": (), "SHR": ("SHORE",), "SHRS": ("SHORES",), "SKWY": ("SKYWAY",),
    "SPG": ("SPRING", "SPNG", "SPRNG"), "SPGS": ("SPRINGS",),
    "SQ": ("SQUARE", "SQR", "SQRE", "SQU"), "STA": ("STATION", "STATN", "STN"),
    "ST": ("STREET", "STRT", "STR"), "STRM": ("STREAM", "STREME"),
    "SMT": ("SUMMIT", "SUMIT", "SUMITT"), "TER": ("TERRACE", "TERR"), "TRCE": ("TRACE", "TRACES"),
    "TRAK": ("TRACK", "TRACKS", "TRK", "TRKS"), "TRL": ("TRAIL", "TRAILS", "TRLS"),
    "TUNL": ("TUNNEL",), "TPKE": ("TURNPIKE", "TRNPK", "TURNPK"), "UN": ("UNION",),
    "VLY": ("VALLEY", "VALLY", "VLLY"), "VIA": ("VIADUCT", "VDCT", "VIADCT"), "VW": ("VIEW",),
    "VLG": ("VILLAGE", "VILL", "VILLAG", "VILLG", "VILLIAGE"), "VL": ("VILLE",),
    "VIS": ("VISTA", "VIST", "VST", "VSTA"), "WALK": (), "WAY": ("WY",), "WL": ("WELL",),
    "WLS": ("WELLS",),
}

UNIT_DESIGNATORS: dict[str, tuple[str, ...]] = {
    "APT": ("APARTMENT", "APPT"), "BLDG": ("BUILDING", "BLD"), "DEPT": ("DEPARTMENT",),
    "FL": ("FLOOR", "FLR"), "HNGR": ("HANGAR",), "LOT": (), "PIER": (), "RM": ("ROOM",),
    "SLIP": (), "SPC": ("SPACE",), "STOP": (), "STE": ("SUITE", "SUIT"), "TRLR": ("TRAILER",),
    "UNIT": (), "BSMT": ("BASEMENT",), "FRNT": ("FRONT",), "LBBY": ("LOBBY",),
    "LOWR": ("LOWER",), "OFC": ("OFFICE",), "PH": ("PENTHOUSE",), "REAR": (), "SIDE": (),
    "UPPR": ("UPPER",),
}

STATES: dict[str, tuple[str, ...]] = {
    "AL": ("ALABAMA",), "AK": ("ALASKA",), "AZ": ("ARIZONA",), "AR": ("ARKANSAS",),
    "CA": ("CALIFORNIA", "CALIF"), "CO": ("COLORADO",), "CT": ("CONNECTICUT",),
    "DE": ("DELAWARE",), "DC": ("DISTRICT OF COLUMBIA", "WASHINGTON DC"), "FL": ("FLORIDA",),
    "GA": ("GEORGIA",), "HI": ("HAWAII",), "ID": ("IDAHO",), "IL": ("ILLINOIS",),
    "IN": ("INDIANA",), "IA": ("IOWA",), "KS": ("KANSAS",), "KY": ("KENTUCKY",),
    "LA": ("LOUISIANA",), "ME": ("MAINE",), "MD": ("MARYLAND",), "MA": ("MASSACHUSETTS",),
    "MI": ("MICHIGAN",), "MN": ("MINNESOTA",), "MS": ("MISSISSIPPI",), "MO": ("MISSOURI",),
    "MT": ("MONTANA",), "NE": ("NEBRASKA",), "NV": ("NEVADA",), "NH": ("NEW HAMPSHIRE",),
    "NJ": ("NEW JERSEY",), "NM": ("NEW MEXICO",), "NY": ("NEW YORK",),
    "NC": ("NORTH CAROLINA",), "ND": ("NORTH DAKOTA",), "OH": ("OHIO",), "OK": ("OKLAHOMA",),
    "OR": ("OREGON",), "PA": ("PENNSYLVANIA",), "RI": ("RHODE ISLAND",),
    "SC": ("SOUTH CAROLINA",), "SD": ("SOUTH DAKOTA",), "TN": ("TENNESSEE",), "TX": ("TEXAS",),
    "UT": ("UTAH",), "VT": ("VERMONT",), "VA": ("VIRGINIA",), "WA": ("WASHINGTON",),
    "WV": ("WEST VIRGINIA",), "WI": ("WISCONSIN",), "WY": ("WYOMING",),
    "AS": ("AMERICAN SAMOA",), "GU": ("GUAM",), "MP": ("NORTHERN MARIANA ISLANDS",),
    "PR": ("PUERTO RICO",), "VI": ("VIRGIN ISLANDS", "US VIRGIN ISLANDS"),
}

# How the country column spells the United States (upper case, periods and spaces removed).
UNITED_STATES: tuple[str, ...] = ("UNITEDSTATES", "UNITEDSTATESOFAMERICA", "US", "USA")
