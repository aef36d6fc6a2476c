"""Video consultations: providers, patient join links, the waiting room and clinic screens."""
