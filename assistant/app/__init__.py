"""The app side: sign-in, accounts, feedback, export, the library and the Streamlit pages."""
