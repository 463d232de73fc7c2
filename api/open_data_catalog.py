"""The DCAT catalogue of every council's open datasets, as JSON-LD.

Each dataset names its publisher (the council), licence, update frequency (EU frequency
vocabulary), temporal coverage, a CSVW-style table schema of its columns and one
distribution per format.
"""

from datetime import datetime
from typing import Any

from api.open_data import DATASETS, EU_FREQUENCY, Dataset
from api.open_data_formats import MEDIA_TYPES, XSD, Format
from api.open_data_settings import OpenDataSettings

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
_FILE_TYPES = {Format.CSV: "CSV", Format.GEOJSON: "GEOJSON", Format.PARQUET: "PARQUET"}
_COVERAGE = {
    "footfall-hourly": "footfall",
    "bin-fill-daily": "bins",
    "potholes": "potholes",
    "road-roughness": "roughness",
}

FIWARE = {
    "WasteContainer": (
        "Litter bins now (FIWARE WasteContainer)",
        "Every sensor-equipped litter bin with its position, latest filling level and status, "
        "as NGSI-LD keyValues entities of the Smart Data Models WasteContainer.",
        "https://smart-data-models.github.io/dataModel.WasteManagement/WasteContainer/schema.json",
        "bins",
    ),
    "CrowdFlowObserved": (
        "Footfall of the latest hour (FIWARE CrowdFlowObserved)",
        "People counted per zone in its latest complete hour, as NGSI-LD keyValues entities "
        "of the Smart Data Models CrowdFlowObserved; counts under the suppression threshold "
        "are left out.",
        "https://smart-data-models.github.io/dataModel.Transportation/CrowdFlowObserved/schema.json",
        "footfall",
    ),
}


def _iri(value: str) -> dict[str, str]:
    return {"@id": value}


def licence_of(council: dict[str, Any], settings: OpenDataSettings) -> str:
    """The council's own open-data licence (its profile), else the deployment's."""
    return str(council.get("open_data_licence") or settings.licence_url)


def _distribution(
    title: str, url: str, media_type: str, file_type: str, licence: str
) -> dict[str, Any]:
    return {
        "@type": "dcat:Distribution",
        "dct:title": title,
        "dcat:accessURL": _iri(url),
        "dcat:downloadURL": _iri(url),
        "dcat:mediaType": _iri(IANA + media_type),
        "dct:format": _iri(FILE_TYPE + file_type),
        "dct:license": _iri(licence),
    }


def _temporal(start: datetime | None, end: datetime | None) -> dict[str, Any] | None:
    if start is None or end is None:
        return None
    return {
        "@type": "dct:PeriodOfTime",
        "dcat:startDate": {"@value": start.isoformat(), "@type": "xsd:dateTime"},
        "dcat:endDate": {"@value": end.isoformat(), "@type": "xsd:dateTime"},
    }


def _common(
    council: dict[str, Any], settings: OpenDataSettings, ident: str, url: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:identifier": ident,
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": council["name"]},
        "dct:license": _iri(licence_of(council, settings)),
    }
    if settings.contact_email:
        entry["dcat:contactPoint"] = {
            "@type": "vcard:Organization",
            "vcard:fn": council["name"],
            "vcard:hasEmail": _iri(f"mailto:{settings.contact_email}"),
        }
    return entry


def dataset_entry(
    dataset: Dataset, council: dict[str, Any], settings: OpenDataSettings, base: str
) -> dict[str, Any]:
    """The DCAT description of one council's dataset, with a distribution per format."""
    slug = council["slug"]
    entry = _common(
        council, settings, f"{slug}/{dataset.slug}", f"{base}/open-data/{slug}#{dataset.slug}"
    )
    prefix = _COVERAGE[dataset.slug]
    entry |= {
        "dct:title": f"{dataset.title}, {council['name']}",
        "dct:description": dataset.description,
        "dcat:keyword": list(dataset.keywords),
        "dct:accrualPeriodicity": _iri(EU_FREQUENCY + dataset.frequency),
        "csvw:tableSchema": {
            "@type": "csvw:Schema",
            "csvw:column": [
                {
                    "csvw:name": c.name,
                    "csvw:datatype": XSD[c.kind],
                    "dct:description": c.description,
                }
                for c in dataset.columns
            ],
        },
        "dcat:distribution": [
            _distribution(
                f"{dataset.title} ({fmt.value})",
                f"{base}/open-data/{slug}/{dataset.slug}.{fmt.value}",
                MEDIA_TYPES[fmt].split(";")[0],
                _FILE_TYPES[fmt],
                licence_of(council, settings),
            )
            for fmt in Format
        ],
    }
    if (temporal := _temporal(council[f"{prefix}_start"], council[f"{prefix}_end"])) is not None:
        entry["dct:temporal"] = temporal
    return entry


def fiware_entry(
    model: str, council: dict[str, Any], settings: OpenDataSettings, base: str
) -> dict[str, Any]:
    """The DCAT description of one council's FIWARE snapshot dataset."""
    title, description, schema, prefix = FIWARE[model]
    slug = council["slug"]
    url = f"{base}/open-data/{slug}/fiware/{model}.json"
    entry = _common(council, settings, f"{slug}/fiware/{model}", f"{base}/open-data/{slug}#{model}")
    entry |= {
        "dct:title": f"{title}, {council['name']}",
        "dct:description": description,
        "dct:conformsTo": _iri(schema),
        "dct:accrualPeriodicity": _iri(EU_FREQUENCY + "CONT"),
        "dcat:distribution": [
            _distribution(
                f"{model} (NGSI-LD keyValues)",
                url,
                "application/ld+json",
                "JSON_LD",
                licence_of(council, settings),
            )
            | {"dct:conformsTo": _iri(schema)}
        ],
    }
    if (temporal := _temporal(council[f"{prefix}_start"], council[f"{prefix}_end"])) is not None:
        entry["dct:temporal"] = temporal
    return entry


def catalogue(
    councils: list[dict[str, Any]], settings: OpenDataSettings, base: str
) -> dict[str, Any]:
    """The dcat:Catalog of every council's datasets, from ``open_data_coverage`` rows."""
    datasets = []
    for council in councils:
        datasets += [dataset_entry(d, council, settings, base) for d in DATASETS.values()]
        datasets += [fiware_entry(m, council, settings, base) for m in FIWARE]
    return {
        "@context": CONTEXT,
        "@id": f"{base}/open-data/catalog.json",
        "@type": "dcat:Catalog",
        "dct:title": "smartstreets open data",
        "dct:description": (
            "Footfall, litter bin fill, pothole and road roughness data of the councils on this "
            "smartstreets "
            "deployment: aggregated, with small counts withheld, free to reuse under the licence."
        ),
        "dct:license": _iri(settings.licence_url),
        "foaf:homepage": _iri(f"{base}/docs"),
        "dcat:dataset": datasets,
    }
