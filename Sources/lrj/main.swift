import Consultation
print("lrj")
