print("broken_on_import runs its top level")
raise ValueError("this module fails as it is imported")
