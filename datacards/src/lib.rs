//! quarry-datacards: corpus statistics, dataset cards, Croissant metadata, plots.
