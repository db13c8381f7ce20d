import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0004_emergency_access'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Team',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('region', models.CharField(blank=True, help_text='Where the team works, e.g. “Springfield north”.', max_length=200)),
                ('members', models.ManyToManyField(blank=True, help_text="The team's nurses and the coordinators who coordinate it.", related_name='teams', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='patient',
            name='team',
            field=models.ForeignKey(blank=True, help_text="The team that staffs this patient's visits.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='patients', to='patients.team'),
        ),
    ]
