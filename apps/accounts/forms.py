from django import forms


class SetupForm(forms.Form):
    username = forms.CharField(max_length=150, initial="admin")
    password = forms.CharField(widget=forms.PasswordInput, max_length=512, strip=False)
    password_confirm = forms.CharField(widget=forms.PasswordInput, max_length=512, strip=False, label="Repeat password")
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The passwords differ.")
        return cleaned


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, max_length=512, strip=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
