"""Travel avoided by video and community-hub appointments: distances, estimators, postcodes."""
