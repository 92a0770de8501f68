import Media
print("samplegen")
